/**
 * Keeping the embedded store in check: what it holds (`ratri store info`) and deleting old history
 * (`ratri store prune`). Only history is deleted — events, approvals that are no longer pending, and
 * grants that can no longer let a call pass (revoked, expired, or a once-grant used). The tool
 * registry, the boundary map and the outbox are state the proxies need and are never pruned.
 *
 * Proxies keep writing while a prune runs: rows are deleted in chunks, each chunk its own short
 * transaction, so a proxy's batch of events waits for at most one chunk (well inside the store's
 * 5 s busy timeout) instead of for the whole prune.
 */
import { statSync } from 'node:fs';
import { type Db, isoTime } from './store.js';

export interface StoreInfo {
  path: string;
  /** The database file plus its write-ahead log, in bytes. */
  bytes: number;
  schemaVersion: number;
  events: number;
  oldestEvent: string | null;
  newestEvent: string | null;
  approvals: { pending: number; total: number };
  tools: number;
  boundary: number;
  /** Events waiting for a remote control plane. */
  outbox: number;
}

export interface PruneCounts {
  events: number;
  approvals: number;
  grants: number;
}

/** Rows deleted per transaction. */
export const PRUNE_CHUNK = 5000;

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes on disk of the store at `path` (the file and its `-wal`). */
export function storeBytes(path: string): number {
  return fileBytes(path) + fileBytes(`${path}-wal`);
}

export function storeInfo(db: Db, path: string): StoreInfo {
  const count = (sql: string, ...params: unknown[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
  const span = db.prepare('SELECT min(ts) AS oldest, max(ts) AS newest FROM events').get() as {
    oldest: string | null;
    newest: string | null;
  };
  // Calls keep their times as ms (docs/events.md#one-record-per-call).
  const calls = db.prepare('SELECT min(ts) AS oldest, max(coalesce(end_ts, ts)) AS newest FROM calls').get() as {
    oldest: number | null;
    newest: number | null;
  };
  const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));
  return {
    path,
    bytes: storeBytes(path),
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    events: count('SELECT (SELECT count(*) FROM events) + (SELECT coalesce(sum(events), 0) FROM calls) AS n'),
    oldestEvent: earliest(span.oldest, iso(calls.oldest)),
    newestEvent: latest(span.newest, iso(calls.newest)),
    approvals: {
      pending: count("SELECT count(*) AS n FROM approvals WHERE status = 'pending'"),
      total: count('SELECT count(*) AS n FROM approvals'),
    },
    tools: count('SELECT count(*) AS n FROM tools'),
    boundary: count('SELECT count(*) AS n FROM boundary'),
    outbox: count('SELECT count(*) AS n FROM outbox'),
  };
}

function earliest(a: string | null, b: string | null): string | null {
  return a === null ? b : b === null || a < b ? a : b;
}

function latest(a: string | null, b: string | null): string | null {
  return a === null ? b : b === null || a > b ? a : b;
}

/** Calls that ended before the cutoff (ms) go with the events of that time; a call never answered goes by its start. */
const CALLS_BEFORE = 'coalesce(end_ts, ts) < ?';

/** Grants that ended (revoked, expired, or used: a once-grant) before the cutoff: none lets a call pass any more (grant-store.ts). */
const GRANTS_ENDED_BEFORE = '(revoked_at < @before OR expires_at < @before OR used_at < @before)';

/** What `pruneHistory` would delete for this cutoff (an ISO time), without deleting anything. */
export function countHistoryBefore(db: Db, before: string): PruneCounts {
  const callEvents = db
    .prepare(`SELECT coalesce(sum(events), 0) FROM calls WHERE ${CALLS_BEFORE}`)
    .pluck()
    .get(Date.parse(before)) as number;
  return {
    events: (db.prepare('SELECT count(*) AS n FROM events WHERE ts < ?').get(before) as { n: number }).n + callEvents,
    approvals: (
      db.prepare("SELECT count(*) AS n FROM approvals WHERE status <> 'pending' AND requested_at < ?").get(before) as { n: number }
    ).n,
    grants: db.prepare(`SELECT count(*) FROM grants WHERE ${GRANTS_ENDED_BEFORE}`).pluck().get({ before }) as number,
  };
}

/**
 * Deletes events recorded before `before` (an ISO time), decided approvals requested before it and
 * grants that ended before it, `chunk` rows per transaction; `onProgress` hears the running total after each chunk.
 */
export function pruneHistory(
  db: Db,
  before: string,
  onProgress: (deleted: PruneCounts) => void = () => {},
  chunk = PRUNE_CHUNK,
): PruneCounts {
  const deleteEvents = db.prepare('DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE ts < ? ORDER BY ts LIMIT ?)');
  const deleteApprovals = db.prepare(
    "DELETE FROM approvals WHERE id IN (SELECT id FROM approvals WHERE status <> 'pending' AND requested_at < ? LIMIT ?)",
  );
  const deleteCalls = db.prepare(
    `DELETE FROM calls WHERE seq IN (SELECT seq FROM calls WHERE ${CALLS_BEFORE} ORDER BY ts LIMIT ?) RETURNING events`,
  );
  const deleteGrants = db.prepare(`DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE ${GRANTS_ENDED_BEFORE} LIMIT @chunk)`);
  const done: PruneCounts = { events: 0, approvals: 0, grants: 0 };
  // Each step deletes up to `chunk` rows and returns how many rows and how many events went.
  const steps: Array<[keyof PruneCounts, () => { rows: number; events: number }]> = [
    ['events', () => one(deleteEvents.run(before, chunk).changes)],
    ['events', () => callRows(deleteCalls.all(Date.parse(before), chunk) as Array<{ events: number }>)],
    ['approvals', () => one(deleteApprovals.run(before, chunk).changes)],
    ['grants', () => one(deleteGrants.run({ before, chunk }).changes)],
  ];
  for (const [key, run] of steps) {
    const step = db.transaction(run);
    for (;;) {
      const n = step.immediate();
      done[key] += n.events;
      if (n.rows > 0) onProgress({ ...done });
      if (n.rows < chunk) break;
    }
  }
  return done;
}

const one = (rows: number): { rows: number; events: number } => ({ rows, events: rows });

const callRows = (rows: Array<{ events: number }>): { rows: number; events: number } => ({
  rows: rows.length,
  events: rows.reduce((n, r) => n + r.events, 0),
});

/**
 * Rewrites the file so the space of deleted rows goes back to the disk (SQLite otherwise keeps it and
 * reuses it for new rows). Writers wait while it runs; on a large store that can exceed their busy
 * timeout, so run it when no proxy is busy.
 */
export function compactStore(db: Db): void {
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
