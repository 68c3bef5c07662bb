/**
 * Keeping the embedded store in check: what it holds (`ratri store info`) and deleting old history
 * (`ratri store prune`). Only history is deleted — events, and approvals that are no longer pending.
 * The tool registry, the boundary map and the outbox are state the proxies need and are never pruned.
 *
 * Proxies keep writing while a prune runs: rows are deleted in chunks, each chunk its own short
 * transaction, so a proxy's batch of events waits for at most one chunk (well inside the store's
 * 5 s busy timeout) instead of for the whole prune.
 */
import { statSync } from 'node:fs';
import type { Db } from './store.js';

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
  return {
    path,
    bytes: storeBytes(path),
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    events: count('SELECT count(*) AS n FROM events'),
    oldestEvent: span.oldest,
    newestEvent: span.newest,
    approvals: {
      pending: count("SELECT count(*) AS n FROM approvals WHERE status = 'pending'"),
      total: count('SELECT count(*) AS n FROM approvals'),
    },
    tools: count('SELECT count(*) AS n FROM tools'),
    boundary: count('SELECT count(*) AS n FROM boundary'),
    outbox: count('SELECT count(*) AS n FROM outbox'),
  };
}

/** What `pruneHistory` would delete for this cutoff (an ISO time), without deleting anything. */
export function countHistoryBefore(db: Db, before: string): PruneCounts {
  return {
    events: (db.prepare('SELECT count(*) AS n FROM events WHERE ts < ?').get(before) as { n: number }).n,
    approvals: (
      db.prepare("SELECT count(*) AS n FROM approvals WHERE status <> 'pending' AND requested_at < ?").get(before) as { n: number }
    ).n,
  };
}

/**
 * Deletes events recorded before `before` (an ISO time) and decided approvals requested before it,
 * `chunk` rows per transaction; `onProgress` hears the running total after each chunk.
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
  const done: PruneCounts = { events: 0, approvals: 0 };
  for (const [key, statement] of [
    ['events', deleteEvents],
    ['approvals', deleteApprovals],
  ] as const) {
    const step = db.transaction(() => statement.run(before, chunk).changes);
    for (;;) {
      const n = step.immediate();
      done[key] += n;
      if (n > 0) onProgress({ ...done });
      if (n < chunk) break;
    }
  }
  return done;
}

/**
 * Rewrites the file so the space of deleted rows goes back to the disk (SQLite otherwise keeps it and
 * reuses it for new rows). Writers wait while it runs; on a large store that can exceed their busy
 * timeout, so run it when no proxy is busy.
 */
export function compactStore(db: Db): void {
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
