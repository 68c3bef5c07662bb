/** The `events` table: every event the proxies record, idempotent by event id, queryable by `ratri events`. */
import type { EventSink, RatriEvent } from '../telemetry/event.js';
import type { Db } from './store.js';
import { writeWithoutBlocking } from './write-without-blocking.js';

export interface EventQuery {
  /** Glob on the namespaced tool name (`filesystem.*`) or the bare name. */
  tool?: string;
  decision?: string;
  /** Only events of this type, or with a type starting with this prefix followed by `*` (`agent.tool.*`). */
  type?: string;
  /** ISO time: only events at or after it. */
  since?: string;
  sessionId?: string;
  /** Only events after this sequence number (for following the table as it grows). */
  afterSeq?: number;
  /** At most this many, the newest. */
  limit?: number;
}

export interface StoredEvent extends RatriEvent {
  seq: number;
}

interface EventRow {
  seq: number;
  id: string;
  ts: string;
  type: string;
  agent_key: string;
  environment: string;
  server_name: string;
  session_id: string;
  data: string;
}

/** A `*`/`?` glob as a SQL GLOB pattern (the same two wildcards; brackets escaped). */
function sqlGlob(glob: string): string {
  return glob.replace(/[[\]]/g, (c) => `[${c}]`);
}

export class EventStore {
  private readonly insertOne;
  private readonly insertMany;

  constructor(private readonly db: Db) {
    this.insertOne = db.prepare(
      `INSERT OR IGNORE INTO events (id, ts, type, agent_key, environment, server_name, session_id, tool, decision, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertMany = db.transaction((events: RatriEvent[]) => {
      let inserted = 0;
      for (const e of events) {
        const tool = typeof e.data.tool === 'string' ? e.data.tool : null;
        const decision = typeof e.data.decision === 'string' ? e.data.decision : null;
        inserted += this.insertOne.run(
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

  /** Stores a batch in one transaction; an event whose id is already stored is skipped. Returns how many were new. */
  insert(events: RatriEvent[]): number {
    return events.length === 0 ? 0 : this.insertMany.immediate(events);
  }

  /** Matching events, oldest first (the newest `limit` of them). */
  query(q: EventQuery = {}): StoredEvent[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.tool) {
      where.push(`(tool GLOB ? OR substr(tool, instr(tool, '.') + 1) GLOB ?)`);
      params.push(sqlGlob(q.tool), sqlGlob(q.tool));
    }
    if (q.decision) {
      where.push('decision = ?');
      params.push(q.decision);
    }
    if (q.type) {
      where.push('type GLOB ?');
      params.push(sqlGlob(q.type));
    }
    if (q.since) {
      where.push('ts >= ?');
      params.push(q.since);
    }
    if (q.sessionId) {
      where.push('session_id = ?');
      params.push(q.sessionId);
    }
    if (q.afterSeq !== undefined) {
      where.push('seq > ?');
      params.push(q.afterSeq);
    }
    const sql =
      `SELECT seq, id, ts, type, agent_key, environment, server_name, session_id, data FROM events` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY seq DESC LIMIT ?`;
    params.push(q.limit ?? 1000);
    const rows = this.db.prepare(sql).all(...params) as EventRow[];
    return rows.reverse().map((r) => ({
      seq: r.seq,
      id: r.id,
      ts: r.ts,
      type: r.type as RatriEvent['type'],
      agentKey: r.agent_key,
      environment: r.environment,
      serverName: r.server_name,
      sessionId: r.session_id,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
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
