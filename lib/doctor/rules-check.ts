/**
 * Check 5: what the config's guardrails would decide for each listed tool. Calls evaluateRules
 * directly (never a control plane's evaluate, which would create approvals): a call with empty
 * arguments and the tool's annotations. Store-backed templates read the real store's boundary map
 * and tool registry, read-only. A rule on arguments counts for a tool only if the tool's
 * inputSchema takes them, and a rule no listed tool can match is a warning.
 */
import type { ProxyConfig, RuleConfig, TemplateConfig } from '../config/types.js';
import { LocalControlPlane } from '../control/local-control-plane.js';
import { definitionHash } from '../control/tool-registry.js';
import { globMatch } from '../policy/glob.js';
import { evaluateRules, lookupsNeeded, type ToolCallFacts } from '../policy/rules.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import { type Colour, type Column, renderTable } from '../report/text-table.js';
import { visibleText } from '../report/visible-text.js';
import { type CheckResult, passed, warned } from './check-result.js';
import { argumentsNotTaken, declaredArguments } from './declared-arguments.js';

/** One row of the decisions table. */
export interface ToolDecision {
  tool: string;
  decision: string;
  ruleId: string | null;
  reason: string;
  /** Rules that match on arguments and would decide otherwise for some calls. */
  otherwise: Array<{ ruleId: string; decision: string }>;
}

const isTemplate = (rule: RuleConfig | TemplateConfig): rule is TemplateConfig => 'template' in rule;

const DECISION_COLOUR: Record<string, Colour> = { allow: 'green', warn: 'yellow', require_approval: 'yellow', block: 'red' };

const COLUMNS: Column<ToolDecision>[] = [
  { title: 'TOOL', value: (r) => r.tool },
  { title: 'DECISION', value: (r) => r.decision, colour: (r) => DECISION_COLOUR[r.decision] },
  { title: 'RULE', value: (r) => r.ruleId ?? '-' },
  { title: 'SOME CALLS', value: (r) => r.otherwise.map((o) => `${o.decision} (${o.ruleId}, by arguments)`).join('; '), max: 60 },
];

/** Store lookups for the templates that need them, or why they could not be made. */
interface StoreFacts {
  facts(tool: ToolDefinition): Pick<ToolCallFacts, 'inBoundary' | 'definitionChanged'>;
  close(): void;
}

function storeFacts(config: ProxyConfig): StoreFacts | string | undefined {
  const needs = lookupsNeeded(config.guardrails);
  if (!needs.boundary && !needs.definitions) return undefined;
  if (config.api)
    return 'store-backed templates are decided by the remote control plane; shown here as if every tool were approved and unchanged';
  let plane: LocalControlPlane;
  try {
    plane = LocalControlPlane.open(config.store, config.guardrails);
  } catch (err) {
    return `store-backed templates not evaluated: ${(err as Error).message}`;
  }
  const trusted = plane.db.prepare('SELECT trusted_hash FROM tools WHERE agent_key = ? AND server_name = ? AND name = ?').pluck();
  return {
    facts: (tool) => {
      const facts: Pick<ToolCallFacts, 'inBoundary' | 'definitionChanged'> = {};
      if (needs.boundary) facts.inBoundary = plane.boundary.has(config.agentKey, config.serverName, tool.name);
      if (needs.definitions) {
        // What the proxy would see after registering this very list: a tool seen for the first time is trusted as it is.
        const hash = trusted.get(config.agentKey, config.serverName, tool.name) as string | undefined;
        facts.definitionChanged = hash !== undefined && hash !== definitionHash(tool);
      }
      return facts;
    },
    close: () => void plane.close(),
  };
}

/** Whether a rule's `tool` globs could be meant for this server (a `other.*` glob is for another one). */
function meantForServer(glob: string, serverName: string): boolean {
  const dot = glob.indexOf('.');
  return dot === -1 || globMatch(glob.slice(0, dot), serverName);
}

/** Rules that name tools (for this server) none of which the server lists: likely a misspelling. */
function unmatchedRules(config: ProxyConfig, tools: ToolDefinition[]): string[] {
  const names = tools.flatMap((t) => [t.name, `${config.serverName}.${t.name}`]);
  return config.guardrails.rules.flatMap((rule) => {
    if (isTemplate(rule) || rule.tool === undefined) return [];
    const globs = (Array.isArray(rule.tool) ? rule.tool : [rule.tool]).filter((g) => meantForServer(g, config.serverName));
    if (globs.length === 0 || names.some((n) => globs.some((g) => globMatch(g, n)))) return [];
    return [`rule "${rule.id}" names ${globs.map((g) => `"${g}"`).join(', ')}, which matches no tool this server lists`];
  });
}

/** Whether the rule, with its `args` left out, matches this call. */
function appliesWithoutArgs(rule: RuleConfig, facts: ToolCallFacts): boolean {
  const { args: _args, ...rest } = rule;
  return evaluateRules({ rules: [rest] }, facts).ruleId === rule.id;
}

/** Rules with `args` that apply to some listed tools, none of which takes every argument the rule looks at. */
function rulesNoToolCanMatch(reach: Map<RuleConfig, ToolDefinition[]>): string[] {
  return [...reach].flatMap(([rule, tools]) => {
    const missing = tools.map((t) => argumentsNotTaken(rule, t));
    if (tools.length === 0 || missing.some((m) => m.length === 0)) return [];
    const names = [...new Set(missing.flat())].map((p) => `"${p}"`).join(', ');
    const declared = [...new Set(tools.flatMap((t) => declaredArguments(t) ?? []))];
    const taken = declared.length === 0 ? 'none' : declared.length > 8 ? `${declared.slice(0, 8).join(', ')}, …` : declared.join(', ');
    return [`rule "${rule.id}" can never match: no tool it applies to takes ${names} (their inputSchemas declare: ${taken})`];
  });
}

/**
 * Check 5: the decision for each tool, as a table. `sharedRules`: the rules are the top-level ones
 * of a multi-server config, so a rule naming a tool this server lacks is probably for another
 * server, not a misspelling.
 */
export function checkRules(
  config: ProxyConfig,
  tools: ToolDefinition[],
  server: string,
  options: { colour: boolean; sharedRules: boolean },
): CheckResult {
  const store = storeFacts(config);
  const notes = typeof store === 'string' ? [store] : [];
  const rows: ToolDecision[] = [];
  const argRules = config.guardrails.rules.filter((r): r is RuleConfig => !isTemplate(r) && r.args !== undefined);
  /** For each rule with `args`, the tools it applies to when its `args` are left out. */
  const reach = new Map(argRules.map((r) => [r, [] as ToolDefinition[]]));
  try {
    for (const tool of tools) {
      const facts: ToolCallFacts = {
        tool: tool.name,
        serverName: config.serverName,
        environment: config.environment,
        arguments: {},
        annotations: tool.annotations,
        ...(typeof store === 'object' ? store.facts(tool) : {}),
      };
      const d = evaluateRules(config.guardrails, facts);
      // A rule with `args` may match some calls and not others, unless the tool does not take an argument it looks at.
      const otherwise = argRules.flatMap((rule) => {
        if (rule.decision === d.decision || !appliesWithoutArgs(rule, facts) || argumentsNotTaken(rule, tool).length > 0) return [];
        return [{ ruleId: rule.id, decision: rule.decision }];
      });
      rows.push({ tool: tool.name, decision: d.decision, ruleId: d.ruleId, reason: d.reason, otherwise });
      for (const rule of argRules) if (appliesWithoutArgs(rule, facts)) reach.get(rule)!.push(tool);
    }
  } finally {
    if (typeof store === 'object') store.close();
  }
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.decision, (counts.get(r.decision) ?? 0) + 1);
  const summary = ['allow', 'warn', 'require_approval', 'block']
    .filter((d) => counts.has(d))
    .map((d) => `${counts.get(d)} ${d}`)
    .join(', ');
  const byArgs = rows.filter((r) => r.otherwise.length > 0).length;
  const mode =
    config.mode === 'monitor'
      ? '; monitor mode: decisions are recorded, never applied (set "mode": "enforce" to apply them)'
      : '; enforce mode';
  const detail = `${summary || 'no tools'} (for a call with no arguments${byArgs > 0 ? `; ${byArgs} may differ by arguments` : ''})${mode}`;
  const unmatched = options.sharedRules ? [] : unmatchedRules(config, tools);
  const unreachable = options.sharedRules ? [] : rulesNoToolCanMatch(reach);
  const warnings = [...unmatched, ...unreachable];
  // The table's cells are made visible by renderTable; the notes name tools, so they are made visible here.
  const lines = [...renderTable(rows, COLUMNS, options.colour).split('\n'), ...[...notes, ...warnings].map(visibleText)];
  const data = { mode: config.mode, environment: config.environment, decisions: rows, notes: [...notes, ...warnings] };
  if (warnings.length > 0) {
    const fields = [unmatched.length > 0 ? '"tool"' : '', unreachable.length > 0 ? '"args"' : ''].filter(Boolean).join(' and ');
    return warned('rules', detail, `check the ${fields} of the rules named below: a misspelt name leaves its tool unguarded`, {
      server,
      lines,
      data,
    });
  }
  if (notes.length > 0 && typeof store === 'string' && !config.api)
    return warned('rules', detail, 'see the control plane check below', { server, lines, data });
  return passed('rules', detail, { server, lines, data });
}
