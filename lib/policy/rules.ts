/**
 * Guardrail rule evaluation (docs/policy.md#decision-order): every matching rule is a candidate, the most restrictive
 * decision wins (block > require_approval > warn > allow), ties go to the first listed, no match allows.
 */
import type {
  ArgMatcher,
  ContentMatcher,
  Decision,
  GuardrailsConfig,
  RuleConfig,
  RuleDecisionName,
  TemplateConfig,
} from '../config/types.js';
import { type ArgCondition, compileCondition } from './arg-matcher.js';
import { argumentTexts, type ContentCondition, type ContentSubject, compileContentCondition } from './content-matcher.js';
import { globMatch } from './glob.js';
import type { ToolAnnotations } from './tool-catalog.js';

/** What a rule can see of one tool call. */
export interface ToolCallFacts {
  /** The bare tool name, as the host sent it. */
  tool: string;
  serverName: string;
  environment: string;
  arguments: Record<string, unknown>;
  /** Annotations from the last `tools/list`, if the tool was listed. */
  annotations: ToolAnnotations | undefined;
  /**
   * True when neither this session's `tools/list` answers nor the store's tool registry know the
   * tool: its annotations are unknown, and it is not assumed safe (annotation rules that block or
   * ask for approval match it; docs/policy.md#annotations-of-a-tool-never-listed).
   */
  toolUnknown?: boolean;
  /**
   * Whether the tool is in the agent's boundary map (tools approved "always"). Undefined when the
   * evaluator cannot know (no store): then `require_approval_unknown_mcp_tools` does not apply.
   */
  inBoundary?: boolean;
  /** Whether the tool's definition changed since it was trusted; undefined when unknown, as above. */
  definitionChanged?: boolean;
  /**
   * What `content` conditions look at. Absent: the arguments' string values, not scanned for
   * secrets (so `content.secrets` matches). The evaluator scans them when a rule asks (lookupsNeeded).
   */
  content?: ContentSubject;
}

export interface RuleDecision {
  decision: Decision;
  /** The deciding rule's id; null when no rule matched. */
  ruleId: string | null;
  reason: string;
}

/** How restrictive each decision is: higher is stricter (`redact` is a result-phase decision, `require_approval` a call-phase one). */
export const SEVERITY: Readonly<Record<RuleDecisionName, number>> = { allow: 0, warn: 1, redact: 2, require_approval: 2, block: 3 };

function asList(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

/** Each rule's `args`, compiled once: when the config loads (compileRules), or on first use. */
const compiled = new WeakMap<Record<string, ArgMatcher>, ArgCondition[]>();

function conditionsOf(args: Record<string, ArgMatcher>): ArgCondition[] {
  let conditions = compiled.get(args);
  if (!conditions) {
    conditions = Object.entries(args).map(([path, matcher]) => compileCondition(path, matcher));
    compiled.set(args, conditions);
  }
  return conditions;
}

/** Each rule's `content`, compiled once, as `args` are. */
const compiledContent = new WeakMap<ContentMatcher, ContentCondition>();

function contentConditionOf(matcher: ContentMatcher): ContentCondition {
  let condition = compiledContent.get(matcher);
  if (!condition) {
    condition = compileContentCondition(matcher);
    compiledContent.set(matcher, condition);
  }
  return condition;
}

/** Compiles the `args` and `content` of every rule now, so that no call pays for it. */
export function compileRules(guardrails: GuardrailsConfig): void {
  for (const rule of guardrails.rules) {
    if (isTemplate(rule)) continue;
    if (rule.args) conditionsOf(rule.args);
    if (rule.content) contentConditionOf(rule.content);
  }
}

/** The subject of `content` conditions: the facts' own, or the arguments' string values, unscanned. */
export function contentSubject(facts: ToolCallFacts): ContentSubject {
  return facts.content ?? { texts: argumentTexts(facts.arguments), secrets: undefined };
}

/** Whether a rule's conditions hold (`content` on `facts.content`: the arguments', or a result's). */
export function ruleMatches(rule: RuleConfig, facts: ToolCallFacts): boolean {
  if (!ruleScopeMatches(rule, facts)) return false;
  if (rule.annotations && facts.toolUnknown) {
    if (SEVERITY[rule.decision] < SEVERITY.require_approval) return false;
  } else if (rule.annotations) {
    const seen = facts.annotations ?? {};
    for (const [hint, expected] of Object.entries(rule.annotations)) {
      if (seen[hint as keyof ToolAnnotations] !== expected) return false;
    }
  }
  if (rule.args && !conditionsOf(rule.args).every((matches) => matches(facts.arguments))) return false;
  return !rule.content || contentConditionOf(rule.content)(contentSubject(facts));
}

/** Turns a template into the rule it stands for, given the call (templates look at facts rules cannot). */
function templateMatches(template: TemplateConfig, facts: ToolCallFacts): RuleDecision | undefined {
  const ruleId = template.id ?? template.template;
  const decide = (decision: Decision, reason: string): RuleDecision => ({ decision: template.decision ?? decision, ruleId, reason });
  switch (template.template) {
    case 'require_approval_unknown_mcp_tools':
      return facts.inBoundary === false
        ? decide('require_approval', `tool "${facts.tool}" is not in the agent's approved tools`)
        : undefined;
    case 'block_destructive_tools': {
      if (facts.toolUnknown && SEVERITY[template.decision ?? 'block'] >= SEVERITY.require_approval) {
        return decide('block', `tool "${facts.tool}" was never listed, so it is not known not to be destructive`);
      }
      const a = facts.annotations;
      return a?.destructiveHint === true && a.readOnlyHint !== true
        ? decide('block', `tool "${facts.tool}" is marked destructive`)
        : undefined;
    }
    case 'block_changed_tool_definitions':
      return facts.definitionChanged === true
        ? decide('block', `tool "${facts.tool}" changed its definition since it was trusted`)
        : undefined;
  }
}

/**
 * Which store lookups the rules need: a template that reads the boundary map or the tool registry,
 * whether any rule reads annotations (then an unlisted tool's are looked up in the registry), and
 * whether any rule has `content.secrets` (then the arguments are scanned for secrets).
 */
export function lookupsNeeded(guardrails: GuardrailsConfig): {
  boundary: boolean;
  definitions: boolean;
  annotations: boolean;
  secrets: boolean;
} {
  const templates = new Set(guardrails.rules.filter(isTemplate).map((t) => t.template));
  const rules = guardrails.rules.filter((r): r is RuleConfig => !isTemplate(r));
  return {
    boundary: templates.has('require_approval_unknown_mcp_tools'),
    definitions: templates.has('block_changed_tool_definitions'),
    annotations: templates.has('block_destructive_tools') || rules.some((r) => r.annotations !== undefined),
    secrets: rules.some((r) => !isResultRule(r) && r.content?.secrets === true),
  };
}

function isTemplate(rule: RuleConfig | TemplateConfig): rule is TemplateConfig {
  return 'template' in rule;
}

/** A rule judged on the upstream's answer, not on the call (docs/policy.md#phases-call-and-result). */
export function isResultRule(rule: RuleConfig | TemplateConfig): boolean {
  return !isTemplate(rule) && rule.on === 'result';
}

/** Whether a rule's `tool` and `environment` can match this call (its other conditions left out). */
export function ruleScopeMatches(rule: RuleConfig, facts: Pick<ToolCallFacts, 'tool' | 'serverName' | 'environment'>): boolean {
  const tools = asList(rule.tool);
  const namespaced = `${facts.serverName}.${facts.tool}`;
  if (tools && !tools.some((g) => globMatch(g, facts.tool) || globMatch(g, namespaced))) return false;
  const environments = asList(rule.environment);
  return !environments || environments.some((g) => globMatch(g, facts.environment));
}

export function ruleReason(rule: RuleConfig, facts: ToolCallFacts): string {
  const reason = rule.reason ?? `matched rule "${rule.id}"`;
  return rule.annotations && facts.toolUnknown ? `${reason} (tool "${facts.tool}" was never listed: its annotations are unknown)` : reason;
}

/** The call phase: every rule and template but the result-phase rules. */
export function evaluateRules(guardrails: GuardrailsConfig, facts: ToolCallFacts): RuleDecision {
  let best: RuleDecision | undefined;
  for (const rule of guardrails.rules) {
    if (isResultRule(rule)) continue;
    const candidate = isTemplate(rule)
      ? templateMatches(rule, facts)
      : ruleMatches(rule, facts)
        ? { decision: rule.decision as Decision, ruleId: rule.id, reason: ruleReason(rule, facts) }
        : undefined;
    if (candidate && (!best || SEVERITY[candidate.decision] > SEVERITY[best.decision])) best = candidate;
  }
  return best ?? { decision: 'allow', ruleId: null, reason: 'no rule matched' };
}
