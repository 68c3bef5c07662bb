/**
 * The `events` table in PostgreSQL: a batch is one INSERT of arrays, idempotent by event id
 * (`ON CONFLICT (id) DO NOTHING`), so a batch a proxy uploads again (its answer was lost, or it
 * retried on another replica) is stored once. `query` is the SQLite store's query on this table, with
 * the same conditions (event-query.ts): `GET /v1/events` answers alike on either store.
 */
import type { RatriEvent } from '../telemetry/event.js';
import { type EventQuery, type EventRow, eventsTableConditions, newestEventsSql, type StoredEvent, storedEventOf } from './event-query.js';
import type { Queryable } from './pg-store.js';
import { numberedPlaceholders, POSTGRES } from './sql-dialect.js';

const COLUMNS = ['id', 'ts', 'type', 'agent_key', 'environment', 'server_name', 'session_id', 'tool', 'decision', 'data'] as const;

export class PgEventStore {
  constructor(private readonly db: Queryable) {}

  /** Stores a batch; returns how many were new. */
  async insert(events: RatriEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const columns: unknown[][] = COLUMNS.map(() => []);
    for (const e of events) {
      const tool = typeof e.data.tool === 'string' ? e.data.tool : null;
      const decision = typeof e.data.decision === 'string' ? e.data.decision : null;
      const row = [e.id, e.ts, e.type, e.agentKey, e.environment, e.serverName, e.sessionId, tool, decision, JSON.stringify(e.data)];
      row.forEach((v, i) => columns[i]!.push(v));
    }
    const arrays = COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ');
    const done = await this.db.query(
      `INSERT INTO events (${COLUMNS.join(', ')}) SELECT * FROM unnest(${arrays}) ON CONFLICT (id) DO NOTHING`,
      columns,
    );
    return done.rowCount ?? 0;
  }

  /** Matching events, oldest first (the newest `limit` of them, default 1000). */
  async query(q: EventQuery = {}): Promise<StoredEvent[]> {
    const { sql, params } = newestEventsSql(eventsTableConditions(q, POSTGRES), q.limit ?? 1000);
    const rows = (await this.db.query<EventRow>(numberedPlaceholders(sql), params)).rows;
    return rows.reverse().map(storedEventOf);
  }

  async count(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
  }
}
