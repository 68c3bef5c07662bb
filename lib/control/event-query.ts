/**
 * What `ratri events` and `GET /v1/events` ask of the stored events, and the SQL conditions that ask
 * it: one builder for the SQLite store (event-store.ts) and PostgreSQL (pg-event-store.ts), which
 * differ only in how a glob is matched and where a tool's bare name starts (docs/api.md#get-v1events).
 */
import type { RatriEvent } from '../telemetry/event.js';
import { agentKeyIn, type SqlDialect } from './sql-dialect.js';

export interface EventQuery {
  /** Glob on the namespaced tool name (`filesystem.*`) or the bare name. */
  tool?: string;
  decision?: string;
  /** Only events of this type, or with a type starting with this prefix followed by `*` (`agent.tool.*`). */
  type?: string;
  /** ISO time: only events at or after it. */
  since?: string;
  /** ISO time: only events before it. */
  until?: string;
  sessionId?: string;
  /** Only events of these agent keys (a key bound to agents reads only theirs: agent-scope.ts). */
  agents?: readonly string[];
  /** Only events of this server name. */
  serverName?: string;
  /** Only events after this sequence number (for following the table as it grows). */
  afterSeq?: number;
  /** Only events before this sequence number (the cursor of the next, older page). */
  beforeSeq?: number;
  /** At most this many, the newest. */
  limit?: number;
}

export interface StoredEvent extends RatriEvent {
  seq: number;
}

/** SQL conditions with `?` placeholders, and their parameters. */
export interface Conditions {
  where: string[];
  params: unknown[];
}

/** The conditions the events table and the calls table are read with alike: tool, session, agents, server, after a seq. */
export function sharedConditions(q: EventQuery, dialect: SqlDialect): Conditions {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.tool) {
    where.push(`(${dialect.matches('tool')} OR ${dialect.matches(dialect.afterDot('tool'))})`);
    params.push(dialect.pattern(q.tool), dialect.pattern(q.tool));
  }
  if (q.sessionId) {
    where.push('session_id = ?');
    params.push(q.sessionId);
  }
  if (q.agents) {
    where.push(agentKeyIn(q.agents));
    params.push(...q.agents);
  }
  if (q.serverName) {
    where.push('server_name = ?');
    params.push(q.serverName);
  }
  if (q.afterSeq !== undefined) {
    where.push('seq > ?');
    params.push(q.afterSeq);
  }
  return { where, params };
}

/** The conditions of the events table: the shared ones, and decision, type, time (ISO text in `ts`) and before a seq. */
export function eventsTableConditions(q: EventQuery, dialect: SqlDialect): Conditions {
  const { where, params } = sharedConditions(q, dialect);
  if (q.beforeSeq !== undefined) {
    where.push('seq < ?');
    params.push(q.beforeSeq);
  }
  if (q.decision) {
    where.push('decision = ?');
    params.push(q.decision);
  }
  if (q.type) {
    where.push(dialect.matches('type'));
    params.push(dialect.pattern(q.type));
  }
  if (q.since) {
    where.push('ts >= ?');
    params.push(q.since);
  }
  if (q.until) {
    where.push('ts < ?');
    params.push(q.until);
  }
  return { where, params };
}

/** The newest `limit` rows of the events table matching `c`, newest first (`?` placeholders; the limit is the last parameter). */
export function newestEventsSql(c: Conditions, limit: number): { sql: string; params: unknown[] } {
  const sql =
    `SELECT seq, id, ts, type, agent_key, environment, server_name, session_id, data FROM events` +
    (c.where.length ? ` WHERE ${c.where.join(' AND ')}` : '') +
    ` ORDER BY seq DESC LIMIT ?`;
  return { sql, params: [...c.params, limit] };
}

/** A row of that SELECT (PostgreSQL gives a BIGSERIAL `seq` as text). */
export interface EventRow {
  seq: number | string;
  id: string;
  ts: string;
  type: string;
  agent_key: string;
  environment: string;
  server_name: string;
  session_id: string;
  data: string;
}

export function storedEventOf(r: EventRow): StoredEvent {
  return {
    seq: Number(r.seq),
    id: r.id,
    ts: r.ts,
    type: r.type as RatriEvent['type'],
    agentKey: r.agent_key,
    environment: r.environment,
    serverName: r.server_name,
    sessionId: r.session_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}
