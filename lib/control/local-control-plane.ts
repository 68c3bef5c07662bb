/**
 * The embedded control plane: guardrail rules from the config; events, approvals, the tool
 * registry and the boundary map in the SQLite store. It answers synchronously, so an intercepted
 * call keeps its place in the stream. `ratri serve` puts this same object behind the HTTP API.
 */
import type { GuardrailsConfig } from '../config/types.js';
import { evaluateRules, lookupsNeeded, type ToolCallFacts } from '../policy/rules.js';
import { makeRedactor, type Redactor } from '../telemetry/redact.js';
import { ApprovalStore } from './approval-store.js';
import { waitForApproval, type ApprovalOutcome } from './approval-wait.js';
import { BoundaryMap } from './boundary-map.js';
import type {
  ApprovalRecord,
  ApprovalScope,
  ApprovalStatus,
  ControlPlane,
  DefineToolsAnswer,
  DefineToolsRequest,
  GuardAnswer,
  GuardRequest,
  ResolveResult,
} from './control-plane.js';
import { EventStore, StoreEventSink } from './event-store.js';
import { openStore, type Db } from './store.js';
import { ToolRegistry } from './tool-registry.js';

/** How often a waiting proxy reads an approval's status. */
const LOCAL_POLL_MS = 100;
const DEFAULT_APPROVAL_TIMEOUT_MS = 300_000;

export class LocalControlPlane implements ControlPlane {
  readonly kind = 'local';
  readonly eventStore: EventStore;
  readonly approvals: ApprovalStore;
  readonly tools: ToolRegistry;
  readonly boundary: BoundaryMap;
  readonly events: StoreEventSink;
  private readonly needs;
  private readonly redactors = new Map<string, Redactor>();

  constructor(
    readonly location: string,
    readonly db: Db,
    private readonly guardrails: GuardrailsConfig,
    /** Redacted from approval arguments in addition to the keys each request names. */
    private readonly redactKeys: string[] = [],
  ) {
    this.eventStore = new EventStore(db);
    this.approvals = new ApprovalStore(db);
    this.tools = new ToolRegistry(db);
    this.boundary = new BoundaryMap(db);
    this.events = new StoreEventSink(this.eventStore);
    this.needs = lookupsNeeded(guardrails);
  }

  /** Opens the store at `path` (creating it); throws StoreError with the path and the reason. */
  static open(path: string, guardrails: GuardrailsConfig = { rules: [] }, redactKeys: string[] = []): LocalControlPlane {
    return new LocalControlPlane(path, openStore(path), guardrails, redactKeys);
  }

  /** Opens the store at `path` for a command that looks at it; throws StoreError when there is none. */
  static openExisting(path: string, guardrails: GuardrailsConfig = { rules: [] }, redactKeys: string[] = []): LocalControlPlane {
    return new LocalControlPlane(path, openStore(path, { create: false }), guardrails, redactKeys);
  }

  evaluate(request: GuardRequest): GuardAnswer {
    const { agentKey, serverName, tool } = request;
    const facts: ToolCallFacts = {
      tool,
      serverName,
      environment: request.environment,
      arguments: request.arguments,
      annotations: request.annotations ?? undefined,
    };
    // The store is read only for the templates that need it: plain rules cost no I/O.
    if (this.needs.boundary) facts.inBoundary = this.boundary.has(agentKey, serverName, tool);
    if (this.needs.definitions) facts.definitionChanged = this.tools.isChanged(agentKey, serverName, tool);
    const decision = evaluateRules(this.guardrails, facts);
    if (decision.decision !== 'require_approval' || request.mode === 'monitor') return decision;
    const approval = this.approvals.create({
      agentKey,
      serverName,
      tool,
      sessionId: request.sessionId ?? null,
      requestId: request.requestId ?? null,
      arguments: this.redactorFor(request.redactKeys)(request.arguments) as Record<string, unknown>,
      ruleId: decision.ruleId,
      reason: decision.reason,
      timeoutMs: request.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    });
    return { decision: decision.decision, ruleId: decision.ruleId, reason: decision.reason, approvalId: approval.id };
  }

  private redactorFor(keys: string[] = []): Redactor {
    const all = [...new Set([...this.redactKeys, ...keys])];
    const name = all.join('\0');
    let redactor = this.redactors.get(name);
    if (!redactor) {
      redactor = makeRedactor(all);
      this.redactors.set(name, redactor);
    }
    return redactor;
  }

  defineTools(request: DefineToolsRequest): DefineToolsAnswer {
    return this.tools.define(request.agentKey, request.serverName, request.tools);
  }

  awaitApproval(id: string, timeoutMs: number, signal: AbortSignal): Promise<ApprovalOutcome> {
    return waitForApproval(this.approvals, id, timeoutMs, signal, LOCAL_POLL_MS);
  }

  getApproval(id: string): Promise<ApprovalRecord | undefined> {
    return Promise.resolve(this.approvals.get(id));
  }

  listApprovals(status?: ApprovalStatus): Promise<ApprovalRecord[]> {
    return Promise.resolve(this.approvals.list(status));
  }

  /** Resolves in the store; "always" also adds the tool to the boundary map and trusts its current definition. */
  resolveApprovalNow(id: string, approve: boolean, scope: ApprovalScope, resolvedBy: string): ResolveResult | undefined {
    return this.db.transaction(() => {
      const result = this.approvals.resolve(id, approve, scope, resolvedBy);
      if (result?.changed && approve && scope === 'always') {
        const { agentKey, serverName, tool } = result.approval;
        this.boundary.add(agentKey, serverName, tool, resolvedBy);
        this.tools.trust(agentKey, serverName, tool);
      }
      return result;
    }).immediate();
  }

  resolveApproval(id: string, approve: boolean, scope: ApprovalScope, resolvedBy: string): Promise<ResolveResult | undefined> {
    return Promise.resolve(this.resolveApprovalNow(id, approve, scope, resolvedBy));
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
