/**
 * `ratri rules test`: one imagined tool call judged by a config's rules, offline, so rules can be
 * tried before a host ever sends the call and scripted in CI (docs/policy.md#trying-rules-ratri-rules-test).
 */
import { readConfigFile, resolveProxyConfig } from '../config/load-config.js';
import type { Decision, ProxyConfig } from '../config/types.js';
import { paint } from '../report/text-table.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { findValueSecrets } from '../secrets/json-secrets.js';
import { argumentTexts } from './content-matcher.js';
import { type Explanation, explainRules } from './explain.js';
import { lookupsNeeded, type ToolCallFacts } from './rules.js';
import type { ToolAnnotations } from './tool-catalog.js';

export interface RulesTestInput {
  config: string;
  server?: string;
  environment?: string;
  tool: string;
  /** The call's `arguments`, as JSON text. */
  args?: string;
  /** The tool's annotations, as JSON text (as the last tools/list would have given them). */
  annotations?: string;
}

export interface RulesTestResult extends Explanation {
  tool: string;
  serverName: string;
  environment: string;
  /** Set when the config names a remote API, which this test does not ask. */
  note?: string;
}

/** The exit code that says the decision, for scripts: 0 allow and warn, 3 block, 4 require_approval. */
export const DECISION_EXIT: Readonly<Record<Decision, number>> = { allow: 0, warn: 0, block: 3, require_approval: 4 };

/** A wrong option value; the message names the option and the fix. */
export class OptionError extends Error {
  override name = 'OptionError';
}

const ANNOTATION_KEYS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint', 'title'];

function parseObject(option: string, text: string | undefined, fix: string): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OptionError(`${option}: not valid JSON (${(err as Error).message}); ${fix}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OptionError(`${option}: must be a JSON object; ${fix}`);
  return value as Record<string, unknown>;
}

function parseAnnotations(text: string | undefined): ToolAnnotations | undefined {
  if (text === undefined) return undefined;
  const value = parseObject('--annotations', text, `e.g. --annotations '{"destructiveHint":true}'`);
  const problems = Object.entries(value)
    .filter(([k, v]) => !ANNOTATION_KEYS.includes(k) || (k === 'title' ? typeof v !== 'string' : typeof v !== 'boolean'))
    .map(([k]) => `--annotations: "${k}" must be one of ${ANNOTATION_KEYS.join(', ')} (booleans; title a string)`);
  if (problems.length > 0) throw new OptionError(problems.join('\n'));
  return value as ToolAnnotations;
}

/**
 * Judges the call; rejects with ConfigError for a bad config, OptionError for a bad option. The
 * arguments are scanned for secrets when a rule has `content.secrets`, as the proxy scans them.
 */
export async function runRulesTest(input: RulesTestInput): Promise<RulesTestResult> {
  if (input.tool === '') throw new OptionError('--tool: must name a tool (the bare name a host sends in params.name)');
  const args = parseObject('--args', input.args, `give the call's arguments, e.g. --args '{"path":"/etc/passwd"}'`);
  const annotations = parseAnnotations(input.annotations);
  const config: ProxyConfig = resolveProxyConfig(readConfigFile(input.config), input.config, {
    server: input.server,
    environment: input.environment,
  });
  const facts: ToolCallFacts = {
    tool: input.tool,
    serverName: config.serverName,
    environment: config.environment,
    arguments: args,
    annotations,
  };
  if (lookupsNeeded(config.guardrails).secrets) {
    const found = await findValueSecrets(args, secretFinder(config.secrets));
    facts.content = { texts: argumentTexts(args), secrets: found.spans };
  }
  const result: RulesTestResult = {
    ...explainRules(config.guardrails, facts),
    tool: input.tool,
    serverName: config.serverName,
    environment: config.environment,
  };
  if (config.api)
    result.note = `the config names a remote API (${config.api.url}); only its own rules were tried, the API may decide more strictly`;
  return result;
}

const COLOURS = { allow: 'green', warn: 'yellow', block: 'red', require_approval: 'yellow' } as const;

/** The text report: the decision, then every rule with why it did or did not match. */
export function renderRulesTest(r: RulesTestResult, colour: boolean): string {
  const head = `${paint(r.decision, COLOURS[r.decision], colour)}${r.ruleId === null ? '' : ` by rule "${r.ruleId}"`}: ${r.reason}`;
  const lines = [`${r.serverName}.${r.tool} (environment ${r.environment}): ${head}`];
  if (r.rules.length === 0) lines.push('  (the config has no rules)');
  for (const rule of r.rules) {
    const mark = rule.decided ? paint('→', 'bold', colour) : rule.matched ? '✓' : paint('✗', 'dim', colour);
    const kind = rule.kind === 'rule' ? '' : rule.kind === rule.id ? 'template, ' : `template ${rule.kind}, `;
    lines.push(`  ${mark} ${rule.id} (${kind}${rule.decision}): ${rule.matched ? 'matched' : 'did not match'}`);
    for (const why of rule.why) lines.push(`      ${why}`);
  }
  if (r.note) lines.push(`note: ${r.note}`);
  return lines.join('\n');
}
