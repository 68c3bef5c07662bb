/**
 * What the HTTP API (api-server.ts) serves: the embedded SQLite control plane (local-control-plane.ts)
 * answers at once, the PostgreSQL one (pg-control-plane.ts) asynchronously, so every answer may be a
 * promise. One shape for both, so `ratri serve` runs the same routes on either store (docs/api.md).
 */
import type { RuleDecision } from '../policy/rules.js';
import type { ToolDefinition } from '../policy/tool-catalog.js';
import type { RatriEvent } from '../telemetry/event.js';
import type { NewApproval } from './approval-store.js';
import type {
  ApprovalRecord,
  ApprovalScope,
  ApprovalStatus,
  DefineToolsAnswer,
  GrantRecord,
  GuardAnswer,
  GuardRequest,
  ResolveOptions,
  ResolveResult,
  RevokeResult,
} from './control-plane.js';
import type { EventQuery, StoredEvent } from './event-query.js';
import type { RegisteredTool } from './tool-registry.js';

export type Awaitable<T> = T | Promise<T>;

export interface ServedPlane {
  readonly eventStore: { insert(events: RatriEvent[]): Awaitable<number>; query(q: EventQuery): Awaitable<StoredEvent[]> };
  readonly approvals: {
    get(id: string): Awaitable<ApprovalRecord | undefined>;
    list(status?: ApprovalStatus, limit?: number, agents?: readonly string[]): Awaitable<ApprovalRecord[]>;
    create(approval: NewApproval): Awaitable<ApprovalRecord>;
    leave(id: string): Awaitable<ApprovalStatus | undefined>;
  };
  readonly tools: {
    define(agentKey: string, serverName: string, tools: ToolDefinition[]): Awaitable<DefineToolsAnswer>;
    list(agents?: readonly string[]): Awaitable<RegisteredTool[]>;
  };
  readonly grants: {
    get(id: string): Awaitable<GrantRecord | undefined>;
    list(all?: boolean, limit?: number, agents?: readonly string[]): Awaitable<GrantRecord[]>;
    revoke(id: string): Awaitable<RevokeResult | undefined>;
  };
  evaluateNow(request: GuardRequest): Awaitable<GuardAnswer>;
  granted(request: GuardRequest, decision: RuleDecision): Awaitable<(RuleDecision & { grantId: string }) | undefined>;
  approvalArgumentsOf(request: GuardRequest): Awaitable<Record<string, unknown>>;
  resolveApprovalNow(
    id: string,
    approve: boolean,
    scope: ApprovalScope,
    resolvedBy: string,
    options?: ResolveOptions,
  ): Awaitable<ResolveResult | undefined>;
  /**
   * Resolves when the approval `id` may have changed, or after `ms` (a long poll of `GET
   * /v1/approvals/{id}?waitMs=`); undefined when the store has no way to learn of changes early.
   */
  changed?(id: string, ms: number): Promise<void>;
  close(): Promise<void>;
}
