/** The shapes of `ratri.mcp.json` (see schemas/ratri.mcp.schema.json and docs/config.md). */

export type Mode = 'monitor' | 'enforce';
export type Decision = 'allow' | 'warn' | 'block' | 'require_approval';
export type GuardFailureMode = 'fail_open' | 'fail_closed';
/** When a rule is judged: on the host's `tools/call`, or on the upstream's answer to it (docs/policy.md#phases-call-and-result). */
export type RulePhase = 'call' | 'result';
/** What a rule may decide: `redact` only in the result phase, `require_approval` only in the call phase. */
export type RuleDecisionName = Decision | 'redact';
/** How a refused `tools/call` is answered (docs/errors.md#refusal-styles). */
export type RefusalStyle = 'error' | 'result';

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

/** A rule's `content` condition: exactly one of `secrets` and `regex` (docs/policy.md#content). */
export interface ContentMatcher {
  /** Matches when the secret detector finds any secret in the value judged (docs/secrets.md). */
  secrets?: true;
  /** Matches when this regular expression matches one of the value's texts. */
  regex?: string;
  /** Only with `regex`: any of i, m, s, u. */
  flags?: string;
}

export interface RuleConfig {
  id: string;
  tool?: string | string[];
  environment?: string | string[];
  args?: Record<string, ArgMatcher>;
  annotations?: Partial<Record<'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint', boolean>>;
  content?: ContentMatcher;
  /** Default `call`. */
  on?: RulePhase;
  decision: RuleDecisionName;
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

/** Secrets by value (docs/secrets.md): which detector rules are off, and whether kept copies are redacted. */
export interface SecretsConfig {
  /** Detected secret values become "[REDACTED:<rule>]" in everything ratri keeps; default true. */
  redact?: boolean;
  /** Detector rules not applied, by short name (`aws`, `jwt`, `basicauth`…); default none. */
  disabledRules?: string[];
}

export interface TelemetryConfig {
  jsonl?: string;
  /** OpenTelemetry export of spans and metrics (docs/opentelemetry.md). */
  otlp?: OtlpConfig;
}

/** Where and how spans and metrics go to an OpenTelemetry collector (docs/opentelemetry.md). */
export interface OtlpConfig {
  /** The collector's OTLP/HTTP base URL, e.g. http://localhost:4318 (/v1/traces and /v1/metrics are added). */
  endpoint: string;
  /** Sent with each export, e.g. an Authorization header. */
  headers?: Record<string, string>;
  protocol?: 'http/protobuf' | 'http/json';
  /** Put the call's (redacted) arguments on its span as gen_ai.tool.call.arguments; off by default. */
  includeArguments?: boolean;
}

/** Fields a `servers` entry may set; they override the top-level ones. */
export interface ServerFields {
  agentKey?: string;
  serverName?: string;
  mode?: Mode;
  environment?: string;
  redactKeys?: string[];
  secrets?: SecretsConfig;
  approvalTimeoutMs?: number;
  guardrails?: GuardrailsConfig;
  guardFailureMode?: GuardFailureMode;
  guardTimeoutMs?: number;
  telemetry?: TelemetryConfig;
  maxFrameBytes?: number;
  refusal?: RefusalStyle;
  hideBlockedTools?: boolean;
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
  /** `ratri serve` only: a PostgreSQL database instead of the store (docs/api.md, "PostgreSQL"). */
  database?: string;
  /** `ratri serve` only: its keys file, relative to this file (docs/api.md, "Keys for teams"). */
  keys?: string;
  approvals?: ApprovalsConfig;
}

/** Where a new pending approval is posted (docs/control-plane.md, "Webhook"). */
export interface WebhookConfig {
  url: string;
  /** Sent with each post, e.g. an Authorization header. */
  headers?: Record<string, string>;
  format?: 'json' | 'slack' | 'teams';
  /** How long one attempt may take (default 5000). */
  timeoutMs?: number;
}

/** How approvals fit the host (docs/control-plane.md). */
export interface ApprovalsConfig {
  /** How often a held call whose request has a progress token reports progress to the host; 0: never. */
  progressIntervalMs?: number;
  /** How long a grant made by a late approval stays usable. */
  grantWindowMs?: number;
  webhook?: WebhookConfig;
}

/** A remote control plane: its URL, and the environment variable holding its key (never the key itself). */
export interface ApiConfig {
  url: string;
  /** `null`: the API takes no key (otherwise a proxy whose key variable is unset refuses to start). */
  keyEnv?: string | null;
}

/** One server's effective settings: the file, the chosen `servers` entry and the CLI overrides, with defaults. */
export interface ProxyConfig {
  agentKey: string;
  serverName: string;
  mode: Mode;
  environment: string;
  upstream: UpstreamConfig;
  redactKeys: string[];
  secrets: Required<SecretsConfig>;
  approvalTimeoutMs: number;
  guardrails: GuardrailsConfig;
  guardFailureMode: GuardFailureMode;
  guardTimeoutMs: number;
  telemetry: TelemetryConfig;
  maxFrameBytes: number;
  approvals: Required<Omit<ApprovalsConfig, 'webhook'>> & Pick<ApprovalsConfig, 'webhook'>;
  /** How refusals of a `tools/call` are answered: a JSON-RPC error (default) or an `isError` result. */
  refusal: RefusalStyle;
  /** Leave tools that a rule blocks on every call out of `tools/list` answers (docs/policy.md#hiding-blocked-tools). */
  hideBlockedTools: boolean;
  /** The SQLite store's absolute path (events and approvals with the embedded control plane; the upload queue with `api`). */
  store: string;
  /** Set: the remote control plane decides, instead of the embedded one. */
  api?: ApiConfig;
  /**
   * Environment variables holding ratri's own credentials (the API key, the HTTP front's token):
   * removed from the upstream's environment unless `upstream.env` sets them (docs/config.md).
   */
  secretEnv: string[];
  /** Directory of the config file: relative paths in it (cwd, telemetry.jsonl) resolve from here. */
  baseDir: string;
  /** The config file itself, for error messages. */
  source: string;
}

/**
 * How long a host built on the official MCP SDKs waits for an answer (their DEFAULT_REQUEST_TIMEOUT_MSEC):
 * a call held longer is given up by the host, so an approval after that helps nobody.
 */
export const SDK_REQUEST_TIMEOUT_MS = 60_000;

export const DEFAULTS = {
  mode: 'monitor',
  environment: 'development',
  serverName: 'default',
  /** Below SDK_REQUEST_TIMEOUT_MS, so the host still waits when the approval times out (docs/config.md). */
  approvalTimeoutMs: 50_000,
  guardFailureMode: 'fail_open',
  guardTimeoutMs: 2000,
  maxFrameBytes: 64 * 1024 * 1024,
  refusal: 'error',
  hideBlockedTools: false,
  apiKeyEnv: 'RATRI_API_KEY',
  /** Progress every 5 s keeps a host that resets its timeout on progress waiting. */
  progressIntervalMs: 5_000,
  grantWindowMs: 10 * 60_000,
  /**
   * HTTP front (--session-idle-ms): sessions idle this long are ended. Clients that vanish without
   * DELETE (the SDK's and the Inspector's never send it) would otherwise keep an upstream each;
   * docs/http.md says how many fit.
   */
  sessionIdleMs: 5 * 60 * 1000,
} as const;

/** The variable the API's key is read from; null when the config says the API takes no key. */
export function apiKeyEnv(api: ApiConfig): string | null {
  return api.keyEnv === null ? null : (api.keyEnv ?? DEFAULTS.apiKeyEnv);
}
