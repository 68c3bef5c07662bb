/**
 * The `calls` table: one row per tool call (docs/events.md#one-record-per-call), written when the
 * call ends, or when it is held and again when it ends. What is queried has its own column (times
 * as integers); the arguments are JSON text made once; the events of the call are read back from
 * the row (`eventsOfRow`), with the seq each was given when it was stored. Most calls are a start, a
 * decision and an end with nothing more in them than the columns hold: their `parts` is then a short
 * array of what the columns do not hold (`compactParts`) instead of the parts' JSON, which was the
 * dearest part of writing a row (docs/performance.md#off-the-frames-way-and-a-smaller-row-issue-13-this-round).
 */
import { type CallEvent, type CallPart, partEvent } from '../telemetry/call-event.js';
import type { Db } from './store.js';

/** A row as read back; `seq` is the seq of the call's latest event. */
export interface CallRow {
  seq: number;
  id: string;
  ts: number;
  end_ts: number | null;
  agent_key: string;
  environment: string;
  server_name: string;
  session_id: string;
  request_id: string | null;
  tool: string | null;
  action: string | null;
  resource_type: string | null;
  resource_value: string | null;
  risk_level: string | null;
  protocol_version: string | null;
  round: number | null;
  first_call_id: string | null;
  decision: string | null;
  rule_id: string | null;
  latency_ms: number | null;
  duration_ms: number | null;
  arguments_size: number | null;
  result_size: number | null;
  arguments: string | null;
  base: string | null;
  parts: string;
}

/** The columns a row is read with (eventsOfRow needs them all). */
export const CALL_ROW_COLUMNS =
  'seq, id, ts, end_ts, agent_key, environment, server_name, session_id, request_id, tool, action, resource_type, resource_value, risk_level, protocol_version, round, first_call_id, decision, rule_id, latency_ms, duration_ms, arguments_size, result_size, arguments, base, parts';

type Fields = Record<string, unknown>;

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const number = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** True when the row's columns give back `base` exactly (they do unless a redact key hid one of its fields). */
function columnsHoldBase(base: Fields): boolean {
  const r = base.resource as { type?: unknown; value?: unknown } | null;
  const resourceFits = r === null || (typeof r === 'object' && typeof r.type === 'string' && typeof r.value === 'string');
  const version = base.protocolVersion === undefined ? 0 : typeof base.protocolVersion === 'string' ? 1 : -1;
  const round = base.round === undefined ? 0 : typeof base.round === 'number' && typeof base.firstCallId === 'string' ? 2 : -1;
  return (
    resourceFits &&
    version >= 0 &&
    round >= 0 &&
    typeof base.tool === 'string' &&
    typeof base.requestId === 'string' &&
    typeof base.action === 'string' &&
    typeof base.riskLevel === 'string' &&
    Object.keys(base).length === 5 + version + round
  );
}

function baseOfRow(row: CallRow): Fields {
  if (row.base !== null) return JSON.parse(row.base) as Fields;
  const base: Fields = {
    tool: row.tool,
    requestId: row.request_id,
    action: row.action,
    resource: row.resource_type === null ? null : { type: row.resource_type, value: row.resource_value },
    riskLevel: row.risk_level,
  };
  if (row.protocol_version !== null) base.protocolVersion = row.protocol_version;
  if (row.round !== null) {
    base.round = row.round;
    base.firstCallId = row.first_call_id;
  }
  return base;
}

/** The fields of each part of a compact row, in the order they were recorded. */
const STARTED_FIELDS = ['argumentsSize'];
const GUARD_FIELDS = ['decision', 'ruleId', 'reason', 'latencyMs', 'enforced'];
const ENDED_FIELDS = ['durationMs', 'argumentsSize', 'resultSize'];
/** A compact row's shape: its first element. */
const STARTED_FIRST = 1; // monitor mode: started, guard, ended
const GUARD_FIRST = 2; // enforce mode: guard, started, ended

/** True when `f` has exactly these keys, in this order. */
function hasKeys(f: Fields, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in f) if (key !== keys[i++]) return false;
  return i === keys.length;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * For a call of a start, a decision and an end whose fields the row's columns hold exactly (the
 * commonest call): `[shape, the second part's ms after the first, reason, enforced, first seq]`,
 * the rest being in the columns (ts, end_ts, decision, rule_id, latency_ms, duration_ms,
 * arguments_size, result_size; the three seqs are consecutive). Undefined for any other call, whose
 * parts are kept as JSON. A part that comes later (a result-phase decision made after the end) is
 * appended to the array by the upsert as to any row's parts, and read back after the three.
 */
function compactParts(parts: CallPart[]): string | undefined {
  if (parts.length !== 3) return undefined;
  const [a, b, ended] = parts as [CallPart, CallPart, CallPart];
  const shape = a.k === 'started' && b.k === 'guard' ? STARTED_FIRST : a.k === 'guard' && b.k === 'started' ? GUARD_FIRST : 0;
  if (shape === 0 || ended.k !== 'ended') return undefined;
  const [started, guard] = shape === STARTED_FIRST ? [a, b] : [b, a];
  const g = guard.f;
  const e = ended.f;
  const fits =
    hasKeys(started.f, STARTED_FIELDS) &&
    hasKeys(g, GUARD_FIELDS) &&
    hasKeys(e, ENDED_FIELDS) &&
    isCount(started.f.argumentsSize) &&
    e.argumentsSize === started.f.argumentsSize &&
    typeof g.decision === 'string' &&
    (g.ruleId === null || typeof g.ruleId === 'string') &&
    typeof g.reason === 'string' &&
    Number.isFinite(g.latencyMs) &&
    typeof g.enforced === 'boolean' &&
    Number.isFinite(e.durationMs) &&
    isCount(e.resultSize) &&
    isCount(a.ts) &&
    isCount(b.ts) &&
    isCount(ended.ts);
  return fits ? JSON.stringify([shape, b.ts - a.ts, g.reason, g.enforced, a.seq]) : undefined;
}

/** The parts of a row: its JSON, or those a compact row stands for (compactParts). */
function partsOfRow(row: CallRow): CallPart[] {
  const stored = JSON.parse(row.parts) as CallPart[] | [number, number, string, boolean, number, ...CallPart[]];
  if (typeof stored[0] !== 'number') return stored as CallPart[];
  const [shape, secondAfter, reason, enforced, firstSeq, ...later] = stored as [number, number, string, boolean, number, ...CallPart[]];
  const argumentsSize = row.arguments_size;
  const started = { k: 'started' as const, f: { argumentsSize } };
  const guard = { k: 'guard' as const, f: { decision: row.decision, ruleId: row.rule_id, reason, latencyMs: row.latency_ms, enforced } };
  const [first, second] = shape === STARTED_FIRST ? [started, guard] : [guard, started];
  return [
    { k: first.k, ts: row.ts, f: first.f, seq: firstSeq },
    { k: second.k, ts: row.ts + secondAfter, f: second.f, seq: firstSeq + 1 },
    { k: 'ended', ts: row.end_ts!, f: { durationMs: row.duration_ms, argumentsSize, resultSize: row.result_size }, seq: firstSeq + 2 },
    ...later,
  ];
}

/** SQL: the seq of a row's oldest event (a compact row keeps it as its fifth element). */
export const FIRST_SEQ_SQL =
  "CASE WHEN json_type(parts, '$[0]') = 'integer' THEN json_extract(parts, '$[4]') ELSE json_extract(parts, '$[0].seq') END";

/** The events a stored call stands for, oldest first, each with its seq. */
export function eventsOfRow(row: CallRow): Array<ReturnType<typeof partEvent> & { seq: number }> {
  const parts = partsOfRow(row);
  const hasStart = parts.some((p) => p.k === 'started');
  const data = { base: baseOfRow(row), arguments: hasStart && row.arguments !== null ? JSON.parse(row.arguments) : undefined };
  const head = { agentKey: row.agent_key, environment: row.environment, serverName: row.server_name, sessionId: row.session_id };
  return parts.map((p) => ({ seq: p.seq ?? row.seq, ...partEvent(head, row.id, data, p) }));
}

export class CallStore {
  private readonly upsert;

  constructor(db: Db) {
    // A held call's second write adds its later parts and moves the row to its latest seq.
    this.upsert = db.prepare(
      `INSERT INTO calls (seq, id, ts, end_ts, agent_key, environment, server_name, session_id, request_id, tool, action,
         resource_type, resource_value, risk_level, protocol_version, round, first_call_id, decision, rule_id, latency_ms,
         result_decision, outcome, duration_ms, arguments_size, result_size, arguments, events, base, parts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         seq = excluded.seq,
         end_ts = coalesce(excluded.end_ts, calls.end_ts),
         decision = coalesce(excluded.decision, calls.decision),
         rule_id = coalesce(excluded.rule_id, calls.rule_id),
         latency_ms = coalesce(excluded.latency_ms, calls.latency_ms),
         result_decision = coalesce(excluded.result_decision, calls.result_decision),
         outcome = coalesce(excluded.outcome, calls.outcome),
         duration_ms = coalesce(excluded.duration_ms, calls.duration_ms),
         result_size = coalesce(excluded.result_size, calls.result_size),
         arguments_size = coalesce(excluded.arguments_size, calls.arguments_size),
         events = calls.events + excluded.events,
         parts = substr(calls.parts, 1, length(calls.parts) - 1) || ',' || substr(excluded.parts, 2)`,
    );
  }

  /** Stores a call record (or adds to it), numbering its parts from `seq`; returns the next free seq. */
  write(call: CallEvent, seq: number): number {
    const { base, parts } = call.data;
    let guard: Fields | undefined;
    let result: Fields | undefined;
    let ended: CallPart | undefined;
    let argumentsSize: number | null = null;
    for (const p of parts) {
      p.seq = seq++;
      if (p.k === 'guard') guard = p.f;
      else if (p.k === 'result') result = p.f;
      else if (p.k === 'ended') ended = p;
      if (argumentsSize === null) argumentsSize = number(p.f.argumentsSize);
    }
    const resource = base.resource as { type?: unknown; value?: unknown } | null;
    const fits = columnsHoldBase(base);
    this.upsert.run(
      seq - 1,
      call.id,
      parts[0]?.ts ?? Date.parse(call.ts),
      ended?.ts ?? null,
      call.agentKey,
      call.environment,
      call.serverName,
      call.sessionId,
      text(base.requestId),
      text(base.tool),
      text(base.action),
      text(resource?.type),
      text(resource?.value),
      text(base.riskLevel),
      text(base.protocolVersion),
      number(base.round),
      text(base.firstCallId),
      text(guard?.decision),
      text(guard?.ruleId),
      number(guard?.latencyMs),
      text(result?.decision),
      ended ? (ended.f.error !== undefined || ended.f.isError === true ? 'failed' : 'completed') : null,
      number(ended?.f.durationMs),
      argumentsSize,
      number(ended?.f.resultSize),
      call.data.arguments === undefined ? null : JSON.stringify(call.data.arguments),
      parts.length,
      fits ? null : JSON.stringify(base),
      compactParts(parts) ?? JSON.stringify(parts),
    );
    return seq;
  }
}
