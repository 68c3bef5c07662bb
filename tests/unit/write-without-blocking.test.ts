/** writeWithoutBlocking on a real SQLite file held by a second connection (as another process would hold it). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../lib/control/store.js';
import { isBusy, writeWithoutBlocking } from '../../lib/control/write-without-blocking.js';
import { tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function twoConnections(): { db: ReturnType<typeof openStore>; other: Database.Database } {
  const dir = tempDir('ratri-busy-');
  dirs.push(dir);
  const db = openStore(join(dir, 'ratri.db'));
  db.exec('CREATE TABLE t (v INTEGER)');
  return { db, other: new Database(join(dir, 'ratri.db')) };
}

describe('writeWithoutBlocking', () => {
  it('writes at once, synchronously, when the store is free', () => {
    const { db, other } = twoConnections();
    const result = writeWithoutBlocking(db, () => db.prepare('INSERT INTO t VALUES (1)').run().changes);
    expect(result).toBe(1);
    other.close();
    db.close();
  });

  it('does not wait on the thread while another connection holds the lock, and writes once it is released', async () => {
    const { db, other } = twoConnections();
    other.exec('BEGIN EXCLUSIVE');
    const started = performance.now();
    const result = writeWithoutBlocking(db, () => db.prepare('INSERT INTO t VALUES (2)').run().changes, 5000);
    expect(performance.now() - started).toBeLessThan(100); // no 5 s busy wait
    expect(result).toBeInstanceOf(Promise);
    setTimeout(() => other.exec('ROLLBACK'), 150);
    await expect(result).resolves.toBe(1);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000); // the connection's own setting is back
    other.close();
    db.close();
  });

  it('gives up at the deadline with a message that says the store stayed locked', async () => {
    const { db, other } = twoConnections();
    other.exec('BEGIN EXCLUSIVE');
    const started = performance.now();
    await expect(writeWithoutBlocking(db, () => db.prepare('INSERT INTO t VALUES (3)').run(), 120)).rejects.toThrow(
      /the store stayed locked by another process for 120 ms/,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    other.exec('ROLLBACK');
    other.close();
    db.close();
  });

  it('throws any other error at once', () => {
    const { db, other } = twoConnections();
    let caught: unknown;
    try {
      writeWithoutBlocking(db, () => db.prepare('INSERT INTO nope VALUES (1)').run());
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).toMatch(/no such table: nope/);
    expect(isBusy(caught)).toBe(false);
    other.close();
    db.close();
  });
});
