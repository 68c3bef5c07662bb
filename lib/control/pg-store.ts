/**
 * The PostgreSQL store of `ratri serve --database postgres://…` (docs/api.md, "PostgreSQL"): a `pg`
 * pool, brought to the current schema in one transaction under an advisory lock, so replicas
 * starting at once cannot both migrate; a database made by a newer ratri is refused. Errors name
 * the URL (without its password) and the fix.
 */
import pg from 'pg';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { StoreError } from './store.js';

// BIGINT columns (events.seq, grant_window_ms) as numbers: every value ratri stores fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

/** Any number, the same in every ratri: the lock migrations take. */
const MIGRATION_LOCK = 7466;

/** The URL as it may be shown: without its password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Throws StoreError when `url` is not a postgres:// URL. */
export function checkDatabaseUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(
      `--database: "${shownUrl(url)}" is not a URL; use postgres://USER@HOST:PORT/DATABASE (the password in PGPASSWORD)`,
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreError(`--database: ${u.protocol}// is not PostgreSQL; use postgres://USER@HOST:PORT/DATABASE (SQLite: --store PATH)`);
  }
}

/** Why a connection failed, with what to do about it. */
export function connectProblem(url: string, err: unknown): StoreError {
  const e = err as { code?: string; message?: string };
  const where = shownUrl(url);
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') {
    return new StoreError(
      `cannot reach PostgreSQL at ${where} (${e.code}); check the host and port of --database and that the server runs`,
    );
  }
  if (e.code === '28P01' || e.code === '28000') {
    return new StoreError(
      `PostgreSQL at ${where} refused the login: ${e.message}; check the user, and the password in PGPASSWORD or the URL`,
    );
  }
  if (e.code === '3D000') return new StoreError(`PostgreSQL at ${where}: ${e.message}; create it (createdb) or fix --database`);
  return new StoreError(`cannot use PostgreSQL at ${where}: ${e.message ?? String(err)}`);
}

/** Opens a pool on `url` and brings the schema up to date; throws StoreError. */
export async function openPgStore(url: string): Promise<pg.Pool> {
  checkDatabaseUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // an idle client's lost connection: the next query reconnects
  try {
    await migrate(pool, url);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err instanceof StoreError ? err : connectProblem(url, err);
  }
  return pool;
}

async function migrate(pool: pg.Pool, url: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS ratri_schema (version INTEGER NOT NULL)');
    const rows = (await client.query<{ version: number }>('SELECT version FROM ratri_schema')).rows;
    const from = rows[0]?.version ?? 0;
    if (from > PG_MIGRATIONS.length) {
      throw new StoreError(
        `the database ${shownUrl(url)} has schema version ${from}, newer than this ratri knows (${PG_MIGRATIONS.length}); upgrade ratri`,
      );
    }
    for (let v = from; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v]!);
    if (rows.length === 0) await client.query('INSERT INTO ratri_schema (version) VALUES ($1)', [PG_MIGRATIONS.length]);
    else await client.query('UPDATE ratri_schema SET version = $1', [PG_MIGRATIONS.length]);
  });
}

/** Runs `work` in one transaction on one client of the pool: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A pool or one client in a transaction: what the stores' queries run on. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;
