/**
 * What the relay needs from the floors above it, as small interfaces it owns (docs/architecture.md,
 * "Ports"): a policy to decide a call, a registry for listed tools, a desk that awaits approvals,
 * one observer that records what happened to each call, and its settings. The session implements
 * them (lib/session/relay-ports.ts) from the control plane, telemetry and the config; a unit test
 * implements them in memory. The relay imports nothing from those floors (tests/unit/relay-imports.test.ts).
 */
import type { blockedRefusal } from '../jsonrpc/refusal.js';
import type { BlockedToolsFilter } from '../policy/blocked-tools-filter.js';
import type { evaluateWithDeadline, PolicyHook, PolicyVerdict } from '../policy/policy-hook.js';
import type { ResultRules, ResultVerdict } from '../policy/result-rules.js';
import type { ToolAnnotations, ToolDefinition } from '../policy/tool-catalog.js';
import type { OriginOf } from './request-origin.js';

/** The config's words for these, read through the floors below (the relay does not read the config). */
type RefusalStyle = Parameters<typeof blockedRefusal>[0];
type GuardFailureMode = Parameters<typeof evaluateWithDeadline>[3];

/** What the relay knows of one tools/call from request to answer; the observer may keep more in it. */
export interface CallRecord {
  /** The JSON-RPC id, as the host wrote it. */
  readonly requestId: string;
  readonly namespacedTool: string;
  /** The W3C trace context of the request's `_meta`, when valid (docs/opentelemetry.md#trace-context). */
  traceparent?: string;
}

/** Of the tools/list request whose answer registered tools: all optional. */
export interface ListingFields {
  protocolVersion?: string;
  /** The host's id as JSON text, as a call's requestId. */
  requestId?: string;
  /** From forwarding the request to reading its answer. */
  durationMs?: number;
  traceparent?: string;
}

/** How a call ended, as the observer records it. */
export interface CallOutcome {
  error?: { code: unknown; message: unknown };
  isError?: boolean;
  /** A 2026-07-28-era call ratri refused: the refusal's code, recorded with `isError`. */
  refusal?: { code: number; message: string };
  inputRequired?: boolean;
  resultSize: number;
  uninspected?: boolean;
}

/** The one place the relay reports to: telemetry implements it (lib/telemetry/telemetry.ts). */
export interface CallObserver {
  /** Starts the record of a call (nothing is recorded yet). */
  describeCall(
    requestId: string,
    tool: string,
    args: Record<string, unknown>,
    annotations: ToolAnnotations | undefined,
    frameBytes: number,
    protocolVersion?: string,
    /** When the call was sent on (performance.now()), if before now (a frame read after the upstream took it). */
    startedAt?: number,
  ): CallRecord;
  linkRound(call: CallRecord, round: number, firstCallId: string): void;
  /** The W3C traceparent the control plane gets with this call's questions (docs/opentelemetry.md#across-the-control-plane), if any. */
  traceparentFor(call: CallRecord): string | undefined;
  guardrailEvaluated(call: CallRecord, verdict: PolicyVerdict, enforced: boolean, approvedInEarlierRound?: string): void;
  approvalRequested(call: CallRecord, approval: { approvalId: string; ruleId: string | null; reason: string; timeoutMs: number }): void;
  approvalResolved(approvalId: string, tool: string, outcome: string, reason?: string): void;
  toolStarted(call: CallRecord): void;
  toolFinished(call: CallRecord, outcome: CallOutcome): void;
  resultEvaluated(call: CallRecord, verdict: ResultVerdict, latencyMs: number, enforced: boolean, redactions?: number): void;
  /** `listing`: of the tools/list request whose answer listed them (its protocol version, id, duration, trace context). */
  toolsRegistered(tools: ToolDefinition[], changed: string[], listing?: ListingFields): void;
  warning(kind: string, reason: string, extra?: Record<string, unknown>): void;
  /** Work that records when it settles (a result judged by a secret scan): the observer waits for it before it closes. */
  track(work: Promise<unknown>): void;
}

/** Registers the tools of one `tools/list` answer; says which changed since they were trusted. */
export interface ToolRegistry {
  registerTools(tools: ToolDefinition[]): { changed: string[] } | Promise<{ changed: string[] }>;
}

/** Where a held call waits for a human. */
export interface ApprovalDesk {
  /**
   * Resolves when approval `id` is decided, `timeoutMs` passes ('timeout'), or `signal` aborts;
   * `traceparent`: the call's, sent to a remote control plane with each question.
   */
  awaitApproval(id: string, timeoutMs: number, signal: AbortSignal, traceparent?: string): Promise<'approved' | 'rejected' | 'timeout'>;
  /** A new approval is pending: tell whoever should know (the webhook), after this turn. */
  announce(approvalId: string): void;
}

/** The settings the relay reads, taken from the config once (lib/session/relay-ports.ts). */
export interface RelaySettings {
  /** Read in one place: the interceptor's constructor. */
  mode: 'monitor' | 'enforce';
  sessionId: string;
  agentKey: string;
  environment: string;
  serverName: string;
  maxFrameBytes: number;
  refusal: RefusalStyle;
  approvalTimeoutMs: number;
  progressIntervalMs: number;
  grantWindowMs: number;
  redactKeys: string[];
  guardTimeoutMs: number;
  guardFailureMode: GuardFailureMode;
  /** The result-phase rules (docs/policy.md#phases-call-and-result). */
  results: ResultRules;
  /** Enforce mode with hideBlockedTools (docs/policy.md#hiding-blocked-tools). */
  listFilter?: BlockedToolsFilter;
}

/** Everything the relay is built with. */
export interface RelayPorts {
  settings: RelaySettings;
  decider: PolicyHook;
  tools: ToolRegistry;
  approvals: ApprovalDesk;
  observer: CallObserver;
  /** Writes a frame upstream (`terminated` false: no newline, for bytes left at end of stream). */
  toUpstream(frame: Buffer, terminated: boolean): void;
  /** Writes a frame to the host: an upstream frame gated on its way, or an answer of ratri's own. */
  toHost(frame: Buffer): void;
  /** A line for the proxy's stderr. */
  log(message: string): void;
  /** Set by a front that rewrites request ids before they get here (request-origin.ts). */
  originOf?: OriginOf;
}
