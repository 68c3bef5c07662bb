/**
 * The embedded store: one SQLite file (better-sqlite3, WAL) shared by every proxy process, the CLI,
 * `ratri serve` and the dashboard at once. This file opens it and keeps its schema current; the
 * tables are read and written by `event-store.ts`, `approval-store.ts`, `tool-registry.ts` and
 * `outbox.ts`.
 */
import { closeSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { defaultStorePath } from '../config/paths.js';
import { openPrivateFile } from '../node/private-files.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export class StoreError extends Error {}

/** How long a write waits for another process's transaction before SQLITE_BUSY (see write-without-blocking.ts). */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the store at `path`, brought to the current schema. A proxy or `ratri serve` creates it when
 * it is missing; the commands that only look at a store (`ratri events`, `approvals`, `tools`,
 * `store`, `dashboard`) pass `create: false`, so a mistyped path is an error, not a new empty store.
 */
export function openStore(path: string, { create = true }: { create?: boolean } = {}): Db {
  if (!create && !existsSync(path)) throw new StoreError(noStoreMessage(path));
  let db: Db;
  try {
    // Made 0600 before SQLite opens it: SQLite gives the -wal and -shm files the mode of the store.
    if (create && !existsSync(path)) closeSync(openPrivateFile(path, 'a'));
    db = new Database(path, { fileMustExist: !create });
  } catch (err) {
    throw new StoreError(`cannot open the store ${path}: ${(err as Error).message}`);
  }
  try {
    // Several processes share the file: readers never wait for the writer, and a writer waits
    // (rather than failing) while another process commits.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // In WAL mode, NORMAL loses no committed transaction on a process crash (only on power loss).
    db.pragma('synchronous = NORMAL');
    migrate(db, path);
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot use the store ${path}: ${(err as Error).message}`);
  }
  return db;
}

/**
 * A store in memory, with the schema: for a command that talks to a remote control plane and keeps
 * nothing (`ratri approvals`, `ratri events` with a config's `api`), so it leaves no file behind.
 */
export function openMemoryStore(): Db {
  const db = new Database(':memory:');
  migrate(db, ':memory:');
  return db;
}

function noStoreMessage(path: string): string {
  const home = process.env.RATRI_HOME ? '$RATRI_HOME/ratri.db' : '~/.ratri/ratri.db, or $RATRI_HOME/ratri.db when RATRI_HOME is set';
  return `no store at ${path} (the default store is ${defaultStorePath()}: ${home}); run a proxy first, or pass --store PATH or --config FILE`;
}

function migrate(db: Db, path: string): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() === MIGRATIONS.length) return;
  db.transaction(() => {
    const from = version(); // read again inside the lock: another process may have migrated meanwhile
    if (from > MIGRATIONS.length) {
      throw new StoreError(
        `the store ${path} has schema version ${from}, newer than this ratri knows (${MIGRATIONS.length}); upgrade ratri`,
      );
    }
    for (let v = from; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** Milliseconds since the epoch (now by default) as the ISO text the store keeps (sortable as text). */
export { isoTime } from '../telemetry/iso-time.js';
