/** The shapes of `ratri.mcp.json` (see schemas/ratri.mcp.schema.json and docs/config.md). */

export type Mode = 'monitor' | 'enforce';
export type Decision = 'allow' | 'warn' | 'block' | 'require_approval';
export type GuardFailureMode = 'fail_open' | 'fail_closed';

export interface UpstreamConfig {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** One condition on an argument: exactly one of regex, glob, equals, exists, under, notUnder (docs/policy.md#args). */
export interface ArgMatcher {
  regex?: string;
  /** Regular expression flags, only with `regex`: any of i, m, s, u. */
  flags?: string;
  equals?: unknown;
  glob?: string;
  exists?: boolean;
  /** An absolute folder: matches a path that is this folder or inside it. */
  under?: string;
  /** An absolute folder: matches a path outside it. */
  notUnder?: string;
  /** With `under`/`notUnder`: the absolute folder relative paths start from. */
  base?: string;
  /** With `under`/`notUnder`: compare paths case-insensitively. */
  caseInsensitive?: boolean;
}

export interface RuleConfig {
  id: string;
  tool?: string | string[];
  environment?: string | string[];
  args?: Record<string, ArgMatcher>;
  annotations?: Partial<Record<'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint', boolean>>;
  decision: Decision;
  reason?: string;
}

export type TemplateName = 'require_approval_unknown_mcp_tools' | 'block_destructive_tools' | 'block_changed_tool_definitions';

export interface TemplateConfig {
  template: TemplateName;
  id?: string;
  /** Overrides the template's own decision (e.g. require_approval instead of block for changed tools). */
  decision?: Decision;
}

export interface GuardrailsConfig {
  rules: Array<RuleConfig | TemplateConfig>;
}

export interface TelemetryConfig {
  jsonl?: string;
}

/** Fields a `servers` entry may set; they override the top-level ones. */
export interface ServerFields {
  agentKey?: string;
  serverName?: string;
  mode?: Mode;
  environment?: string;
  redactKeys?: string[];
  approvalTimeoutMs?: number;
  guardrails?: GuardrailsConfig;
  guardFailureMode?: GuardFailureMode;
  guardTimeoutMs?: number;
  telemetry?: TelemetryConfig;
  maxFrameBytes?: number;
}

export interface ServerEntry extends ServerFields {
  upstream: UpstreamConfig;
}

/** The file as written. */
export interface ConfigFile extends ServerFields {
  agentKey: string;
  upstream?: UpstreamConfig;
  servers?: Record<string, ServerEntry>;
  api?: ApiConfig;
  store?: string;
}

/** A remote control plane: its URL, and the environment variable holding its key (never the key itself). */
export interface ApiConfig {
  url: string;
  keyEnv?: string;
}

/** One server's effective settings: the file, the chosen `servers` entry and the CLI overrides, with defaults. */
export interface ProxyConfig {
  agentKey: string;
  serverName: string;
  mode: Mode;
  environment: string;
  upstream: UpstreamConfig;
  redactKeys: string[];
  approvalTimeoutMs: number;
  guardrails: GuardrailsConfig;
  guardFailureMode: GuardFailureMode;
  guardTimeoutMs: number;
  telemetry: TelemetryConfig;
  maxFrameBytes: number;
  /** The SQLite store's absolute path (events and approvals with the embedded control plane; the upload queue with `api`). */
  store: string;
  /** Set: the remote control plane decides, instead of the embedded one. */
  api?: ApiConfig;
  /** Directory of the config file: relative paths in it (cwd, telemetry.jsonl) resolve from here. */
  baseDir: string;
  /** The config file itself, for error messages. */
  source: string;
}

export const DEFAULTS = {
  mode: 'monitor',
  environment: 'development',
  serverName: 'default',
  approvalTimeoutMs: 300_000,
  guardFailureMode: 'fail_open',
  guardTimeoutMs: 2000,
  maxFrameBytes: 64 * 1024 * 1024,
} as const;
