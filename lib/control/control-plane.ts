/**
 * The control plane ("the Ratri API"): where guardrail decisions, tool definitions, approvals and
 * events live. Two implementations stand behind this one interface, chosen by the config:
 * `LocalControlPlane` (rules from the config, everything else in a SQLite store) and
 * `HttpControlPlane` (a remote Ratri-compatible API, docs/api.md). The proxy sees only this.
 */
import type { GuardAnswer, GuardRequest, PolicyHook } from '../policy/policy-hook.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import type { EventSink } from '../telemetry/event.js';

export interface DefineToolsRequest {
  agentKey: string;
  serverName: string;
  tools: ToolDefinition[];
}

export interface DefineToolsAnswer {
  registered: number;
  /** Tools whose definition changed with this list and now differs from the trusted (pinned) one. */
  changed: string[];
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type ApprovalScope = 'once' | 'always';

/** An approval as `GET /v1/approvals/:id` returns it. */
export interface ApprovalRecord {
  id: string;
  status: ApprovalStatus;
  agentKey: string;
  serverName: string;
  tool: string;
  sessionId: string | null;
  requestId: string | null;
  /** Redacted. */
  arguments: Record<string, unknown>;
  ruleId: string | null;
  reason: string | null;
  requestedAt: string;
  expiresAt: string;
  resolvedAt?: string | null;
  resolvedBy?: string | null;
  scope?: ApprovalScope | null;
  /** Set when the held call ended without a decision (cancelled, timed out, session over): approving it makes a once grant. */
  hostGoneAt?: string | null;
}

export type GrantKind = 'once' | 'always';

/** A grant as `GET /v1/grants` returns it (docs/control-plane.md, "Grants"). */
export interface GrantRecord {
  id: string;
  kind: GrantKind;
  agentKey: string;
  serverName: string;
  /** The bare tool name. */
  tool: string;
  /** Only calls with the very arguments of the approval pass (their canonical JSON's hash is kept, not the values). */
  argsMatch: boolean;
  approvalId: string | null;
  createdAt: string;
  createdBy: string | null;
  /** Null: until revoked. */
  expiresAt: string | null;
  /** A once grant: when a call used it. */
  usedAt: string | null;
  revokedAt: string | null;
}

/** How an approval is resolved besides approve/reject and its scope. */
export interface ResolveOptions {
  /** With scope "always": the grant lets only calls with this call's arguments pass. */
  argsMatch?: boolean;
}

/** What a resolution attempt found: the approval after it, and whether this attempt changed it. */
export interface ResolveResult {
  approval: ApprovalRecord;
  changed: boolean;
  /** The grant this resolution made: always (--always), or once (the host had given up on the call). */
  grant?: GrantRecord;
}

/** What a revocation found. */
export interface RevokeResult {
  grant: GrantRecord;
  changed: boolean;
}

export type { GuardAnswer, GuardRequest };

export interface ControlPlane extends PolicyHook {
  /** 'local' (the SQLite store) or 'http' (a remote API). */
  readonly kind: 'local' | 'http';
  /** Where it lives, for messages: the store's path or the API's URL. */
  readonly location: string;
  /** Decides one call. Answers synchronously when it can (the local store), so the call keeps its place. */
  evaluate(request: GuardRequest): GuardAnswer | Promise<GuardAnswer>;
  /** Registers the tools of one `tools/list` answer and says which changed since they were trusted. */
  defineTools(request: DefineToolsRequest): DefineToolsAnswer | Promise<DefineToolsAnswer>;
  /**
   * Waits until approval `id` is resolved, or `timeoutMs` passes (then it is expired and 'timeout'
   * is the answer), or `signal` aborts. Learns of a resolution made elsewhere within 250 ms.
   * `traceparent`: the call's, sent with each question to a remote API (docs/opentelemetry.md#across-the-control-plane).
   */
  awaitApproval(id: string, timeoutMs: number, signal: AbortSignal, traceparent?: string): Promise<'approved' | 'rejected' | 'timeout'>;
  /** One approval, or undefined when there is none with that id. */
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  /** Approvals, newest first; only those with `status` when given. */
  listApprovals(status?: ApprovalStatus): Promise<ApprovalRecord[]>;
  /** Approves or rejects a pending approval; an approval already resolved or expired is left as it is. */
  resolveApproval(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options?: ResolveOptions,
  ): Promise<ResolveResult | undefined>;
  /** Grants, newest first: those still usable, or with `all` every one. */
  listGrants(all?: boolean): Promise<GrantRecord[]>;
  /** Revokes a grant; undefined for an unknown id. */
  revokeGrant(id: string): Promise<RevokeResult | undefined>;
  /** Where the proxy's events go. */
  readonly events: EventSink;
  /** Flushes what is queued (within `deadlineMs`) and releases the store or connection. */
  close(deadlineMs?: number): Promise<void>;
}
