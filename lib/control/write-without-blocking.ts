/**
 * better-sqlite3 is synchronous: a write that finds the store locked by another process waits for
 * it on the proxy's only thread, up to the busy timeout (5 s), and every frame in both directions
 * waits too. The proxy's own writes (approvals, events) go through here instead: each attempt does
 * not wait at all, and while the store is locked it is tried again on a timer, so other traffic keeps
 * flowing. Commands and `ratri serve` keep the plain blocking writes.
 */
import { BUSY_TIMEOUT_MS, type Db } from './store.js';

/** How long to wait between two attempts while the store is locked. */
const RETRY_MS = 20;

export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Runs `write` once with the busy timeout off; throws SQLITE_BUSY at once when the store is locked. */
export function attempt<T>(db: Db, write: () => T): T {
  db.pragma('busy_timeout = 0');
  try {
    return write();
  } finally {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

/**
 * Runs `write` now when the store is free (the result is synchronous then, so a call keeps its place
 * in the stream); while it is locked, again every 20 ms until `deadlineMs` has passed, without
 * blocking. Any other error, or still locked at the deadline, is thrown (or rejected).
 */
export function writeWithoutBlocking<T>(db: Db, write: () => T, deadlineMs = BUSY_TIMEOUT_MS): T | Promise<T> {
  try {
    return attempt(db, write);
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
  const deadline = Date.now() + deadlineMs;
  return new Promise<T>((resolve, reject) => {
    const retry = (): void => {
      try {
        resolve(attempt(db, write));
      } catch (err) {
        if (!isBusy(err)) return reject(err as Error);
        if (Date.now() >= deadline)
          return reject(new Error(`the store stayed locked by another process for ${deadlineMs} ms (${(err as Error).message})`));
        setTimeout(retry, RETRY_MS);
      }
    };
    setTimeout(retry, RETRY_MS);
  });
}
