/**
 * Why each rule did or did not match one call, for `ratri rules test` (docs/policy.md#trying-rules-ratri-rules-test).
 * It only calls evaluateRules: each rule alone, then each of its conditions alone, so every matcher
 * evaluateRules knows (today's and future ones) is explained the same way without a second copy of it.
 */
import type { Decision, GuardrailsConfig, RuleConfig, RuleDecisionName, TemplateConfig } from '../config/types.js';
import { compileArgPath } from './arg-path.js';
import { secretRulesFound } from './content-matcher.js';
import { contentSubject, evaluateRules, isResultRule, type RuleDecision, type ToolCallFacts } from './rules.js';

/** Why a result-phase rule never matches here: it judges an answer, and a rules test has none. */
const RESULT_PHASE_WHY = 'a result-phase rule ("on": "result"): it judges the upstream\'s answer, which this test does not have';

/** One rule's part in the decision. */
export interface RuleExplanation {
  id: string;
  /** `rule`, or the template's name. */
  kind: string;
  /** The decision the rule gives when it matches. */
  decision: RuleDecisionName;
  matched: boolean;
  /** True for the rule whose decision won. */
  decided: boolean;
  /** Why: the conditions that failed, or why a matching rule did not decide. */
  why: string[];
}

export interface Explanation extends RuleDecision {
  rules: RuleExplanation[];
}

/** The fields of a rule that are not conditions. */
const NOT_CONDITIONS = new Set(['id', 'decision', 'reason', 'on']);
/** Object fields that are one condition whole (`content`'s regex and flags go together). */
const WHOLE_CONDITIONS = new Set(['content']);

const matchesAlone = (rule: RuleConfig | TemplateConfig, facts: ToolCallFacts): RuleDecision | undefined => {
  const result = evaluateRules({ rules: [rule] }, facts);
  return result.ruleId === null ? undefined : result;
};

/** A rule's conditions one at a time: a field, or one key of an object field (`args.path`, `annotations.readOnlyHint`). */
function conditions(rule: RuleConfig): Array<{ label: string; value: unknown; alone: RuleConfig }> {
  const base = { id: rule.id, decision: rule.decision };
  const out: Array<{ label: string; value: unknown; alone: RuleConfig }> = [];
  for (const [field, value] of Object.entries(rule)) {
    if (NOT_CONDITIONS.has(field)) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !WHOLE_CONDITIONS.has(field)) {
      for (const [key, sub] of Object.entries(value as Record<string, unknown>)) {
        out.push({ label: `${field}.${key}`, value: sub, alone: { ...base, [field]: { [key]: sub } } as RuleConfig });
      }
    } else {
      out.push({ label: field, value, alone: { ...base, [field]: value } as RuleConfig });
    }
  }
  return out;
}

/** What the call had where a condition looked, for the common fields; generic otherwise. */
function seen(label: string, facts: ToolCallFacts): string {
  const [field, ...rest] = label.split('.');
  const key = rest.join('.');
  switch (field) {
    case 'tool':
      return `the tool is "${facts.tool}" ("${facts.serverName}.${facts.tool}")`;
    case 'environment':
      return `the environment is "${facts.environment}"`;
    case 'args': {
      const values: unknown[] = [];
      // Every value the path reaches (wildcards and keys in any case reach several): the test collects and never passes.
      compileArgPath(key)(facts.arguments, (value) => {
        values.push(value);
        return false;
      });
      if (values.length === 0) return `argument "${key}" is absent`;
      return `argument "${key}" is ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    case 'annotations': {
      const value = (facts.annotations as Record<string, unknown> | undefined)?.[key];
      return value === undefined ? `the tool has no ${key} annotation` : `the tool's ${key} is ${JSON.stringify(value)}`;
    }
    case 'content':
      return seenContent(facts);
    default:
      return 'the call does not match it';
  }
}

/** What `content` conditions saw: how many texts, and the secret rules that found something (never a value). */
function seenContent(facts: ToolCallFacts): string {
  const subject = contentSubject(facts);
  const secrets =
    subject.secrets === undefined
      ? 'not scanned for secrets'
      : subject.secrets.length === 0
        ? 'no secret found'
        : `secrets found by ${secretRulesFound(subject.secrets).join(', ')}`;
  return `${subject.texts.length} text(s), ${secrets}`;
}

function whyNot(rule: RuleConfig, facts: ToolCallFacts): string[] {
  const failing = conditions(rule).filter((c) => matchesAlone(c.alone, facts) === undefined);
  if (failing.length === 0) return ['its conditions match one by one, but not together'];
  return failing.map((c) => `${c.label} ${JSON.stringify(c.value)} does not match: ${seen(c.label, facts)}`);
}

/** Why a template did not match: the facts it reads, and whether the caller could give them. */
function templateWhyNot(template: TemplateConfig, facts: ToolCallFacts): string {
  switch (template.template) {
    case 'block_destructive_tools':
      return `the tool is not marked destructive (annotations ${JSON.stringify(facts.annotations ?? {})}; it needs destructiveHint true and readOnlyHint not true)`;
    case 'require_approval_unknown_mcp_tools':
      return facts.inBoundary === undefined
        ? "it reads the agent's approved tools in the store, which this test does not read"
        : `tool "${facts.tool}" is in the agent's approved tools`;
    case 'block_changed_tool_definitions':
      return facts.definitionChanged === undefined
        ? 'it reads the tool registry in the store, which this test does not read'
        : `tool "${facts.tool}" has not changed since it was trusted`;
  }
}

/** The decision each template gives unless its `decision` says otherwise (docs/policy.md#templates). */
const TEMPLATE_DECISIONS: Readonly<Record<TemplateConfig['template'], Decision>> = {
  block_destructive_tools: 'block',
  require_approval_unknown_mcp_tools: 'require_approval',
  block_changed_tool_definitions: 'block',
};

function explainOne(rule: RuleConfig | TemplateConfig, facts: ToolCallFacts): RuleExplanation {
  const own = matchesAlone(rule, facts);
  const template = 'template' in rule;
  const entry = template
    ? { id: rule.id ?? rule.template, kind: rule.template, decision: rule.decision ?? TEMPLATE_DECISIONS[rule.template] }
    : { id: rule.id, kind: 'rule', decision: rule.decision };
  const why = own ? [own.reason] : template ? [templateWhyNot(rule, facts)] : isResultRule(rule) ? [RESULT_PHASE_WHY] : whyNot(rule, facts);
  if (own && !template && rule.content) why.push(`content ${JSON.stringify(rule.content)} matched: ${seenContent(facts)}`);
  return { ...entry, matched: own !== undefined, decided: false, why };
}

/** The decision evaluateRules gives, and each rule's part in it, in the order the rules are listed. */
export function explainRules(guardrails: GuardrailsConfig, facts: ToolCallFacts): Explanation {
  const winner = evaluateRules(guardrails, facts);
  const rules = guardrails.rules.map((rule) => explainOne(rule, facts));
  // The first matching entry with the winning id decided (ties go to the first listed).
  const decider = rules.find((r) => r.matched && r.id === winner.ruleId && r.decision === winner.decision);
  for (const r of rules) {
    if (r === decider) r.decided = true;
    else if (r.matched)
      r.why.push(
        `matched, but "${winner.ruleId}" decided ${winner.decision}${r.decision === winner.decision ? ' and is listed first' : ', which is stricter'}`,
      );
  }
  return { ...winner, rules };
}
