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

export interface ArgMatcher {
  regex?: string;
  equals?: unknown;
  glob?: string;
  exists?: boolean;
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

export type TemplateName = 'require_approval_unknown_mcp_tools' | 'block_destructive_tools';

export interface TemplateConfig {
  template: TemplateName;
  id?: string;
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
  api?: { url: string; keyEnv?: string };
  store?: string;
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
