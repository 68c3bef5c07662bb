/**
 * The `events` table: every event the proxies record, idempotent by event id, queryable by `ratri
 * events`. Tool calls are rows of the `calls` table (call-store.ts), one per call; `query` reads the
 * events of both, in one sequence (docs/events.md#one-record-per-call).
 */
import { isCallEvent } from '../telemetry/call-event.js';
import type { EventSink, QueuedEvent, RatriEvent } from '../telemetry/event.js';
import { CALL_ROW_COLUMNS, type CallRow, CallStore, eventsOfRow, FIRST_SEQ_SQL } from './call-store.js';
import {
  type EventQuery,
  type EventRow,
  eventsTableConditions,
  newestEventsSql,
  type StoredEvent,
  sharedConditions,
  storedEventOf,
} from './event-query.js';
import { SQLITE } from './sql-dialect.js';
import type { Db } from './store.js';
import { writeWithoutBlocking } from './write-without-blocking.js';

export type { EventQuery, StoredEvent } from './event-query.js';

/** The event types a call's row stands for. */
const CALL_EVENT_TYPES = ['agent.guardrail.evaluated', 'agent.tool.started', 'agent.tool.completed', 'agent.tool.failed'];

/** A glob as a regular expression, for the events read back from calls. */
function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

export class EventStore {
  private readonly insertOne;
  private readonly insertMany;
  private readonly nextSeq;
  private readonly calls: CallStore;

  constructor(private readonly db: Db) {
    this.calls = new CallStore(db);
    // Events and calls share one sequence: numbered explicitly, from the largest seq of either table.
    this.nextSeq = db
      .prepare('SELECT max((SELECT coalesce(max(seq), 0) FROM events), (SELECT coalesce(max(seq), 0) FROM calls)) + 1')
      .pluck();
    this.insertOne = db.prepare(
      `INSERT OR IGNORE INTO events (seq, id, ts, type, agent_key, environment, server_name, session_id, tool, decision, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertMany = db.transaction((events: QueuedEvent[]) => {
      let inserted = 0;
      let seq = this.nextSeq.get() as number;
      for (const e of events) {
        if (isCallEvent(e)) {
          seq = this.calls.write(e, seq);
          inserted++;
          continue;
        }
        const tool = typeof e.data.tool === 'string' ? e.data.tool : null;
        const decision = typeof e.data.decision === 'string' ? e.data.decision : null;
        inserted += this.insertOne.run(
          seq++,
          e.id,
          e.ts,
          e.type,
          e.agentKey,
          e.environment,
          e.serverName,
          e.sessionId,
          tool,
          decision,
          JSON.stringify(e.data),
        ).changes;
      }
      return inserted;
    });
  }

  /**
   * Stores a batch in one transaction: events, and call records (a row each, or an update of a held
   * call's row). An event whose id is already stored is skipped. Returns how many were new.
   */
  insert(events: QueuedEvent[]): number {
    return events.length === 0 ? 0 : this.insertMany.immediate(events);
  }

  /** Matching events, oldest first (the newest `limit` of them), from both tables. */
  query(q: EventQuery = {}): StoredEvent[] {
    const limit = q.limit ?? 1000;
    const events = this.queryEvents(q, limit);
    const fromCalls = this.queryCalls(q, limit);
    if (fromCalls.length === 0) return events;
    const all = events.concat(fromCalls).sort((a, b) => a.seq - b.seq);
    return all.slice(Math.max(0, all.length - limit));
  }

  /** The newest `limit` matching events read back from calls, newest first; rows are read a page at a time. */
  private queryCalls(q: EventQuery, limit: number): StoredEvent[] {
    const type = q.type ? globRegExp(q.type) : undefined;
    const types = type ? CALL_EVENT_TYPES.filter((t) => type.test(t)).length : 3;
    if (types === 0) return [];
    const { where, params } = sharedConditions(q, SQLITE);
    if (q.decision) {
      where.push('(decision = ? OR result_decision = ?)');
      params.push(q.decision, q.decision);
    }
    if (q.since) {
      const since = Date.parse(q.since);
      where.push('(ts >= ? OR end_ts >= ? OR end_ts IS NULL)');
      params.push(since, since);
    }
    if (q.until) {
      where.push('ts < ?');
      params.push(Date.parse(q.until));
    }
    if (q.beforeSeq !== undefined) {
      // A row's seq is its latest event's; a held call's first events may be older than that (parts[0] is the oldest).
      where.push(`(seq < ? OR ${FIRST_SEQ_SQL} < ?)`);
      params.push(q.beforeSeq, q.beforeSeq);
    }
    where.push('seq < ?');
    const page = this.db.prepare(`SELECT ${CALL_ROW_COLUMNS} FROM calls WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`);
    const keep = (e: StoredEvent): boolean =>
      (!type || type.test(e.type)) &&
      (!q.decision || e.data.decision === q.decision) &&
      (!q.since || e.ts >= q.since) &&
      (!q.until || e.ts < q.until) &&
      (q.afterSeq === undefined || e.seq > q.afterSeq) &&
      (q.beforeSeq === undefined || e.seq < q.beforeSeq);
    const found: StoredEvent[] = [];
    // A row is most often three events (of the types asked for: fewer): the first page guesses that, the next ones double.
    let pageSize = Math.ceil(limit / Math.min(types, 3)) + 8;
    let before = Number.MAX_SAFE_INTEGER;
    while (found.length < limit) {
      const rows = page.all(...params, before, pageSize) as CallRow[];
      for (const row of rows) {
        const kept = eventsOfRow(row).filter(keep);
        for (let i = kept.length - 1; i >= 0; i--) found.push(kept[i]!);
      }
      if (rows.length < pageSize) break;
      before = rows.at(-1)!.seq;
      pageSize *= 2;
    }
    return found;
  }

  /** The newest `limit` matching rows of the events table, oldest first. */
  private queryEvents(q: EventQuery, limit: number): StoredEvent[] {
    const { sql, params } = newestEventsSql(eventsTableConditions(q, SQLITE), limit);
    return (this.db.prepare(sql).all(...params) as EventRow[]).reverse().map(storedEventOf);
  }

  /** How many events the store holds (a call's row counts as the events it stands for). */
  count(): number {
    return this.db.prepare('SELECT (SELECT count(*) FROM events) + (SELECT coalesce(sum(events), 0) FROM calls)').pluck().get() as number;
  }
}

/**
 * The event sink of the embedded control plane: each batch of the queue (up to 500 events, every
 * 20 ms) is one transaction, on the proxy's own thread. A worker thread was tried and measured
 * worse on every count: handing it the batches cost more CPU than the inserts it took away, and
 * its second JavaScript heap added about 26 MB (docs/performance.md). While another process holds the
 * store's lock the batch is retried on a timer rather than waited for (write-without-blocking.ts).
 */
export class StoreEventSink implements EventSink {
  constructor(
    private readonly store: EventStore,
    private readonly db: Db,
  ) {}

  write(events: RatriEvent[]): Promise<void> {
    return this.writeCalls(events);
  }

  writeCalls(events: QueuedEvent[]): Promise<void> {
    try {
      const written = writeWithoutBlocking(this.db, () => this.store.insert(events));
      return written instanceof Promise ? written.then(() => undefined) : Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
