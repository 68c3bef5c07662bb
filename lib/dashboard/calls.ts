/**
 * Tool calls as the dashboard shows them: the stored events of one call (docs/events.md) folded into
 * one row. A call's events share `sessionId` and `data.requestId` (`agent.guardrail.evaluated`,
 * `agent.approval.requested`, `agent.tool.started`, `agent.tool.completed` / `failed`);
 * `agent.approval.resolved` has no request id and is joined on `approvalId`.
 */
import type { StoredEvent } from '../control/event-store.js';

/** Where a call is: decided only, held for a human, forwarded and waiting for the upstream, or ended. */
export type CallStatus = 'evaluated' | 'held' | 'running' | 'completed' | 'failed';

/** How a call's approval went (`pending` until `agent.approval.resolved`). */
export type CallApproval = 'pending' | 'approved' | 'rejected' | 'timeout' | 'cancelled';

/** One tool call: what the dashboard's table shows, and the details a click opens. */
export interface CallRow {
  /** Unique per call: session, request id and the seq of the call's first event. */
  id: string;
  /** The seq of the call's first event (the table's order). */
  firstSeq: number;
  /** The seq of the latest event folded in: the client asks for calls changed after a seq. */
  seq: number;
  /** When the call's first event was created. */
  ts: string;
  sessionId: string;
  agentKey: string;
  serverName: string;
  environment: string;
  /** Namespaced: `server.tool`. */
  tool: string;
  /** The JSON-RPC id as JSON text (`"7"`, `"\"call-4\""`). */
  requestId: string;
  action: string | null;
  resource: { type: string; value: string } | null;
  riskLevel: string | null;
  decision: string | null;
  ruleId: string | null;
  reason: string | null;
  /** False in monitor mode: the decision was recorded, not applied. */
  enforced: boolean | null;
  approvalId: string | null;
  approval: CallApproval | null;
  /** Redacted, as stored. */
  arguments: Record<string, unknown> | null;
  argumentsSize: number | null;
  status: CallStatus;
  durationMs: number | null;
  resultSize: number | null;
  error: { code: number | null; message: string } | null;
  isError: boolean;
  uninspected: boolean;
}

type Data = Record<string, unknown>;

const str = (d: Data, key: string): string | null => (typeof d[key] === 'string' ? (d[key] as string) : null);
const num = (d: Data, key: string): number | null => (typeof d[key] === 'number' ? (d[key] as number) : null);
const obj = (d: Data, key: string): Data | null =>
  d[key] !== null && typeof d[key] === 'object' && !Array.isArray(d[key]) ? (d[key] as Data) : null;

const ended = (row: CallRow): boolean => row.status === 'completed' || row.status === 'failed';

/** The tool fields every `agent.tool.*` and `agent.guardrail.evaluated` event carries. */
function takeToolFields(row: CallRow, d: Data): void {
  row.action = str(d, 'action') ?? row.action;
  const resource = obj(d, 'resource');
  if (resource && typeof resource.type === 'string' && typeof resource.value === 'string') {
    row.resource = { type: resource.type, value: resource.value };
  }
  row.riskLevel = str(d, 'riskLevel') ?? row.riskLevel;
}

/**
 * The calls of a stream of events, kept up to date as more events come (`add`), at most `maxRows`
 * of them (the oldest are forgotten first). A call whose first events came before the events it was
 * given shows what its later events say.
 */
export class CallTable {
  /** The highest seq added so far. */
  lastSeq = 0;
  private readonly rows = new Map<string, CallRow>();
  /** `sessionId` + request id → the id of that request's latest call. */
  private readonly current = new Map<string, string>();
  /** Approval id → call id. */
  private readonly byApproval = new Map<string, string>();

  constructor(private readonly maxRows = 2000) {}

  /** How many calls the table holds. */
  get size(): number {
    return this.rows.size;
  }

  /** Folds events (in seq order) into their calls; other event types are ignored. */
  add(events: StoredEvent[]): void {
    for (const event of events) {
      if (event.seq > this.lastSeq) this.lastSeq = event.seq;
      this.fold(event);
    }
    while (this.rows.size > this.maxRows) this.forget(this.rows.keys().next().value as string);
  }

  /** Calls that changed after `afterSeq` (every call for 0), oldest first. */
  changedSince(afterSeq: number): CallRow[] {
    return [...this.rows.values()].filter((row) => row.seq > afterSeq);
  }

  private fold(event: StoredEvent): void {
    const d = event.data;
    if (event.type === 'agent.approval.resolved') {
      const id = str(d, 'approvalId');
      const row = id === null ? undefined : this.rows.get(this.byApproval.get(id) ?? '');
      const outcome = str(d, 'outcome');
      if (!row || outcome === null) return;
      row.approval = outcome as CallApproval;
      if (row.status === 'held') row.status = 'evaluated';
      row.seq = event.seq;
      return;
    }
    const requestId = str(d, 'requestId');
    if (requestId === null) return;
    switch (event.type) {
      case 'agent.guardrail.evaluated': {
        const row = this.rowFor(event, requestId, (r) => r.decision !== null || ended(r));
        takeToolFields(row, d);
        row.decision = str(d, 'decision');
        row.ruleId = str(d, 'ruleId');
        row.reason = str(d, 'reason');
        row.enforced = typeof d.enforced === 'boolean' ? d.enforced : null;
        return;
      }
      case 'agent.approval.requested': {
        const row = this.rowFor(event, requestId, (r) => r.approvalId !== null || ended(r));
        row.approvalId = str(d, 'approvalId');
        if (row.approvalId !== null) this.byApproval.set(row.approvalId, row.id);
        if (row.approval === null) row.approval = 'pending';
        if (row.approval === 'pending' && !ended(row)) row.status = 'held';
        row.arguments ??= obj(d, 'arguments');
        row.ruleId ??= str(d, 'ruleId');
        row.reason ??= str(d, 'reason');
        return;
      }
      case 'agent.tool.started': {
        const row = this.rowFor(event, requestId, (r) => r.status === 'running' || ended(r));
        takeToolFields(row, d);
        row.arguments = obj(d, 'arguments') ?? row.arguments;
        row.argumentsSize = num(d, 'argumentsSize');
        row.status = 'running';
        return;
      }
      case 'agent.tool.completed':
      case 'agent.tool.failed': {
        const row = this.rowFor(event, requestId, ended);
        takeToolFields(row, d);
        row.status = event.type === 'agent.tool.completed' ? 'completed' : 'failed';
        row.durationMs = num(d, 'durationMs');
        row.argumentsSize = num(d, 'argumentsSize') ?? row.argumentsSize;
        row.resultSize = num(d, 'resultSize');
        const error = obj(d, 'error');
        row.error = error ? { code: typeof error.code === 'number' ? error.code : null, message: String(error.message ?? '') } : null;
        row.isError = d.isError === true;
        row.uninspected = d.uninspected === true;
        return;
      }
    }
  }

  /** The request's current call, or a new one when there is none or `startsAnother` says this event begins a new call. */
  private rowFor(event: StoredEvent, requestId: string, startsAnother: (row: CallRow) => boolean): CallRow {
    const key = `${event.sessionId}\n${requestId}`;
    let row = this.rows.get(this.current.get(key) ?? '');
    if (!row || startsAnother(row)) {
      row = {
        id: `${event.sessionId}:${requestId}:${event.seq}`,
        firstSeq: event.seq,
        seq: event.seq,
        ts: event.ts,
        sessionId: event.sessionId,
        agentKey: event.agentKey,
        serverName: event.serverName,
        environment: event.environment,
        tool: str(event.data, 'tool') ?? '',
        requestId,
        action: null,
        resource: null,
        riskLevel: null,
        decision: null,
        ruleId: null,
        reason: null,
        enforced: null,
        approvalId: null,
        approval: null,
        arguments: null,
        argumentsSize: null,
        status: 'evaluated',
        durationMs: null,
        resultSize: null,
        error: null,
        isError: false,
        uninspected: false,
      };
      this.rows.set(row.id, row);
      this.current.set(key, row.id);
    }
    row.seq = event.seq;
    return row;
  }

  private forget(id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    this.rows.delete(id);
    const key = `${row.sessionId}\n${row.requestId}`;
    if (this.current.get(key) === id) this.current.delete(key);
    if (row.approvalId !== null && this.byApproval.get(row.approvalId) === id) this.byApproval.delete(row.approvalId);
  }
}
