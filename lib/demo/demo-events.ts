/**
 * What the store recorded for one demo session: a row per tool call (joined on requestId and
 * approvalId, see docs/events.md "Event sequences"), and the checks that the record matches what
 * the host saw — the demo's point is that the store tells the same story.
 */
import type { StoredEvent } from '../control/event-store.js';
import type { CallResult } from './demo-session.js';

/** One tool call as the events tell it. */
export interface CallRow {
  /** The JSON-RPC id, as JSON text ("3"). */
  requestId: string;
  /** Namespaced: `demo.read_file`. */
  tool: string;
  decision: string;
  ruleId: string | null;
  /** `approved` / `rejected` / `timeout` / `cancelled` when the call was held, else null. */
  approval: string | null;
  /** `completed`, or `failed -32001` and the like. */
  outcome: string;
  durationMs: number | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The calls of a session in the order they were read, from its events (oldest first). */
export function callRows(events: StoredEvent[]): CallRow[] {
  const rows = new Map<string, CallRow>();
  const byApproval = new Map<string, CallRow>();
  for (const e of events) {
    const d = e.data;
    const requestId = str(d.requestId);
    if (e.type === 'agent.guardrail.evaluated' && requestId) {
      rows.set(requestId, {
        requestId,
        tool: str(d.tool) ?? '',
        decision: str(d.decision) ?? '',
        ruleId: str(d.ruleId),
        approval: null,
        outcome: 'no answer recorded',
        durationMs: null,
      });
    } else if (e.type === 'agent.approval.requested' && requestId) {
      const row = rows.get(requestId);
      const approvalId = str(d.approvalId);
      if (row && approvalId) byApproval.set(approvalId, row);
    } else if (e.type === 'agent.approval.resolved') {
      const row = byApproval.get(str(d.approvalId) ?? '');
      if (row) row.approval = str(d.outcome);
    } else if ((e.type === 'agent.tool.completed' || e.type === 'agent.tool.failed') && requestId) {
      const row = rows.get(requestId);
      if (!row) continue;
      const error = d.error as { code?: unknown } | undefined;
      row.outcome = e.type === 'agent.tool.completed' ? 'completed' : error ? `failed ${String(error.code)}` : 'failed (isError)';
      row.durationMs = typeof d.durationMs === 'number' ? d.durationMs : null;
    }
  }
  return [...rows.values()];
}

/** What each scripted outcome must look like in the store. */
const EXPECTED: Record<CallResult['expected'], { decision: string; approval: string | null; outcome: string }> = {
  allowed: { decision: 'allow', approval: null, outcome: 'completed' },
  blocked: { decision: 'block', approval: null, outcome: 'failed -32001' },
  approved: { decision: 'require_approval', approval: 'approved', outcome: 'completed' },
  rejected: { decision: 'require_approval', approval: 'rejected', outcome: 'failed -32002' },
};

/** Problems found in the record: each call as expected, the session closed, the token never stored. */
export function checkEvents(events: StoredEvent[], calls: CallResult[], secret: string): string[] {
  const problems: string[] = [];
  const rows = new Map(callRows(events).map((r) => [r.requestId, r]));
  for (const call of calls) {
    const row = rows.get(String(call.requestId));
    const want = EXPECTED[call.expected];
    if (!row) {
      problems.push(`the store has no decision for ${call.tool} (request ${call.requestId})`);
      continue;
    }
    const got = { decision: row.decision, approval: row.approval, outcome: row.outcome };
    if (got.decision !== want.decision || got.approval !== want.approval || got.outcome !== want.outcome) {
      problems.push(
        `the store records ${call.tool} (request ${call.requestId}) as ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
      );
    }
  }
  if (!events.some((e) => e.type === 'mcp.session.ended')) problems.push('the store has no mcp.session.ended event for this session');
  if (JSON.stringify(events).includes(secret)) problems.push('the token value reached the store: redaction failed');
  return problems;
}

/** The upstream's process id, from mcp.session.started: the demo checks it is gone at the end. */
export function upstreamPid(events: StoredEvent[]): number | null {
  const started = events.find((e) => e.type === 'mcp.session.started');
  const pid = (started?.data.upstream as { pid?: unknown } | undefined)?.pid;
  return typeof pid === 'number' ? pid : null;
}

/** How many events of each type, for the JSON summary. */
export function countByType(events: StoredEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return counts;
}
