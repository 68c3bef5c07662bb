/**
 * Loads `ratri.mcp.json`, validates it against schemas/ (with ajv's code generated at build time,
 * config-validator.ts: every problem at once, each with its JSON path), and resolves one server's
 * effective settings.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { matcherProblems } from '../policy/arg-matcher.js';
import { contentProblems } from '../policy/content-matcher.js';
import { compileRules } from '../policy/rules.js';
import { unknownSecretRules } from '../secrets/find-secrets.js';
import { SECRET_RULES } from '../secrets/rule-names.js';
import { configValidator } from './config-validator.js';
import { defaultStorePath, resolveConfigPath } from './paths.js';
import { apiKeyEnv, type ConfigFile, DEFAULTS, type Mode, type ProxyConfig, type RuleConfig } from './types.js';

/** A config that cannot be used. `problems` are one line each: `path: what is wrong (hint)`. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface Overrides {
  server?: string;
  mode?: Mode;
  environment?: string;
}

function jsonPath(instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(top level)';
}

function describe(error: ErrorObject): string | undefined {
  const at = jsonPath(error.instancePath);
  const join = (child: string): string => (at === '(top level)' ? child : `${at}.${child}`);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${join(String(p.missingProperty))}: is required`;
    case 'additionalProperties':
      return `${join(String(p.additionalProperty))}: unknown field (check the spelling; see docs/config.md for the fields)`;
    case 'enum':
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${at}: must be ${String(p.type)}`;
    case 'minimum':
      return `${at}: must be at least ${String(p.limit)}`;
    case 'minLength':
      return `${at}: must not be empty`;
    case 'minItems':
      return `${at}: must list at least ${String(p.limit)} item(s)`;
    case 'minProperties':
      return `${at}: must have at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}`;
    case 'pattern':
      return `${at}: ${patternHint(at, String(p.pattern))}`;
    case 'propertyNames':
      return `${at}: server names may use only letters, digits, "_" and "-" (the name prefixes tool names)`;
    // Composite keywords repeat what their branches already said.
    case 'oneOf':
    case 'if':
    case 'not':
      return undefined;
    default:
      return `${at}: ${error.message ?? 'is invalid'}`;
  }
}

function patternHint(at: string, pattern: string): string {
  if (at.endsWith('serverName')) return 'may use only letters, digits, "_" and "-" (it prefixes tool names)';
  if (at.endsWith('url') || at.endsWith('endpoint')) return 'must start with http:// or https://';
  if (at.endsWith('keyEnv')) return 'must be an environment variable name';
  return `must match ${pattern}`;
}

/** How a config file is read. */
export interface ReadOptions {
  /**
   * The config only names a control plane (its guardrails, redactKeys and store), as for
   * `ratri serve`: neither `upstream` nor `servers` is needed, though either may be there.
   */
  controlPlaneOnly?: boolean;
}

/** A decision that does not fit the rule's phase (docs/policy.md#phases-call-and-result), with the fix. */
function phaseProblems(rule: Partial<RuleConfig>): string[] {
  if (rule === null || typeof rule !== 'object' || 'template' in rule) return [];
  const onResult = rule.on === 'result';
  if (rule.decision === 'redact' && !onResult) {
    return [
      'decision: "redact" replaces values in the upstream\'s answer, so it is only for result rules: add "on": "result", or decide "block"',
    ];
  }
  if (rule.decision === 'require_approval' && onResult) {
    return [
      'decision: "require_approval" cannot hold an answer the upstream already gave: on a result rule use "block", "redact", "warn" or "allow", or judge the call ("on": "call")',
    ];
  }
  if (rule.decision === 'redact' && (rule as { content?: unknown }).content === undefined) {
    return [
      'decision: "redact" needs a "content" matcher (the values to replace): add "content": { "secrets": true } or "content": { "regex": "…" }',
    ];
  }
  return [];
}

/** Problems the schema cannot express: exactly one of upstream/servers, and argument matchers that can be used. */
function semanticProblems(config: Record<string, unknown>, options: ReadOptions): string[] {
  const problems: string[] = [];
  const hasUpstream = 'upstream' in config;
  const hasServers = 'servers' in config;
  if (hasUpstream && hasServers) {
    problems.push('(top level): set either "upstream" or "servers", not both');
  } else if (!hasUpstream && !hasServers && !options.controlPlaneOnly) {
    problems.push('upstream: is required (or a "servers" map with one entry per upstream server)');
  }
  const checkRules = (rules: unknown, at: string): void => {
    if (!Array.isArray(rules)) return;
    rules.forEach((rule: Partial<RuleConfig>, i) => {
      for (const p of phaseProblems(rule)) problems.push(`${at}[${i}].${p}`);
      for (const [arg, matcher] of Object.entries(rule?.args ?? {})) {
        if (matcher === null || typeof matcher !== 'object') continue;
        for (const p of matcherProblems(arg, matcher))
          problems.push(`${at}[${i}].args.${arg}${p.field ? `.${p.field}` : ''}: ${p.message}`);
      }
      const content = rule?.content;
      if (content !== null && typeof content === 'object') {
        for (const p of contentProblems(content)) problems.push(`${at}[${i}].content${p.field ? `.${p.field}` : ''}: ${p.message}`);
      }
    });
  };
  const checkSecrets = (secrets: unknown, at: string): void => {
    const disabled = (secrets as { disabledRules?: unknown } | undefined)?.disabledRules;
    if (!Array.isArray(disabled)) return;
    for (const name of unknownSecretRules(disabled.filter((d): d is string => typeof d === 'string')))
      problems.push(`${at}.disabledRules: "${name}" is not a detector rule; the rules are: ${SECRET_RULES.join(', ')}`);
  };
  checkSecrets(config.secrets, 'secrets');
  checkRules((config.guardrails as { rules?: unknown } | undefined)?.rules, 'guardrails.rules');
  for (const [name, entry] of Object.entries((config.servers as Record<string, { guardrails?: { rules?: unknown } }>) ?? {})) {
    checkRules(entry?.guardrails?.rules, `servers.${name}.guardrails.rules`);
    checkSecrets((entry as { secrets?: unknown } | undefined)?.secrets, `servers.${name}.secrets`);
  }
  return problems;
}

/** Validates a parsed config; throws ConfigError listing every problem. */
export function validateConfig(value: unknown, file: string, options: ReadOptions = {}): ConfigFile {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(file, ['(top level): must be a JSON object']);
  }
  const validate = configValidator;
  const problems = validate(value) ? [] : (validate.errors ?? []).map(describe).filter((p): p is string => !!p);
  problems.push(...semanticProblems(value as Record<string, unknown>, options));
  if (problems.length > 0) throw new ConfigError(file, [...new Set(problems)]);
  const config = value as ConfigFile;
  for (const guardrails of [config.guardrails, ...Object.values(config.servers ?? {}).map((s) => s.guardrails)]) {
    if (guardrails) compileRules(guardrails);
  }
  return config;
}

/** Reads and validates a config file. */
export function readConfigFile(file: string, options: ReadOptions = {}): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(file, [`(file): cannot read it: ${why}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`(file): not valid JSON: ${(err as Error).message}`]);
  }
  return validateConfig(value, file, options);
}

/** Picks the server (from `servers` with `--server`, or the top-level `upstream`) and applies defaults and overrides. */
export function resolveProxyConfig(config: ConfigFile, file: string, overrides: Overrides = {}): ProxyConfig {
  let entry: Partial<ConfigFile> = {};
  let entryName: string | undefined;
  if (config.servers) {
    const names = Object.keys(config.servers);
    entryName = overrides.server ?? (names.length === 1 ? names[0] : undefined);
    if (entryName === undefined) {
      throw new ConfigError(file, [`--server: required, because "servers" has ${names.length} entries: ${names.join(', ')}`]);
    }
    const chosen = config.servers[entryName];
    if (!chosen) {
      throw new ConfigError(file, [`--server: "${entryName}" is not in "servers"; the names are: ${names.join(', ')}`]);
    }
    entry = chosen;
  } else if (overrides.server !== undefined) {
    throw new ConfigError(file, [`--server: "${overrides.server}" was given, but the config has no "servers" map`]);
  }
  const pick = <K extends keyof ConfigFile>(key: K): ConfigFile[K] => (key in entry ? entry[key] : config[key]) as ConfigFile[K];
  const upstream = pick('upstream');
  if (!upstream) throw new ConfigError(file, ['upstream: is required']);
  return {
    agentKey: pick('agentKey'),
    serverName: entry.serverName ?? entryName ?? config.serverName ?? DEFAULTS.serverName,
    mode: overrides.mode ?? pick('mode') ?? DEFAULTS.mode,
    environment: overrides.environment ?? pick('environment') ?? DEFAULTS.environment,
    upstream,
    redactKeys: pick('redactKeys') ?? [],
    secrets: { redact: pick('secrets')?.redact ?? true, disabledRules: pick('secrets')?.disabledRules ?? [] },
    approvalTimeoutMs: pick('approvalTimeoutMs') ?? DEFAULTS.approvalTimeoutMs,
    guardrails: pick('guardrails') ?? { rules: [] },
    guardFailureMode: pick('guardFailureMode') ?? DEFAULTS.guardFailureMode,
    guardTimeoutMs: pick('guardTimeoutMs') ?? DEFAULTS.guardTimeoutMs,
    telemetry: pick('telemetry') ?? {},
    maxFrameBytes: pick('maxFrameBytes') ?? DEFAULTS.maxFrameBytes,
    approvals: {
      progressIntervalMs: config.approvals?.progressIntervalMs ?? DEFAULTS.progressIntervalMs,
      grantWindowMs: config.approvals?.grantWindowMs ?? DEFAULTS.grantWindowMs,
      ...(config.approvals?.webhook ? { webhook: config.approvals.webhook } : {}),
    },
    refusal: pick('refusal') ?? DEFAULTS.refusal,
    hideBlockedTools: pick('hideBlockedTools') ?? DEFAULTS.hideBlockedTools,
    store: config.store ? resolveConfigPath(dirname(resolve(file)), config.store) : defaultStorePath(),
    ...(config.api ? { api: config.api } : {}),
    secretEnv: [...new Set([DEFAULTS.apiKeyEnv, ...(config.api ? [apiKeyEnv(config.api) ?? DEFAULTS.apiKeyEnv] : [])])],
    baseDir: dirname(resolve(file)),
    source: file,
  };
}

/** Reads, validates and resolves in one step. */
export function loadProxyConfig(file: string, overrides: Overrides = {}): ProxyConfig {
  return resolveProxyConfig(readConfigFile(file), file, overrides);
}
