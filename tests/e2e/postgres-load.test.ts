/**
 * The load test of `ratri serve --database` (docs/api.md, "PostgreSQL"): 4 proxies × 2 000 calls
 * through 2 replicas on one real PostgreSQL, one replica killed in the middle and started again on
 * its port. Every event a proxy recorded is stored once, every approval is resolved once, and
 * nothing is left pending. RATRI_PG_LOAD_CALLS sets the calls per proxy (default 2 000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { cliPath, fixtureServer, ProxyProcess, tempDir, writeConfig } from '../helpers/cli.js';
import { freePort } from '../helpers/conformance.js';
import { type RunningPostgres, startPostgres } from '../helpers/postgres.js';

const CALLS = Number(process.env.RATRI_PG_LOAD_CALLS ?? 2000);
const PROXIES = 4;
/** One call in this many needs approval. */
const HELD_EVERY = 100;
const WINDOW = 50;
const KEYS = { RATRI_API_KEY: 'pg-load-proxy-key-0123456789', RATRI_APPROVER_KEY: 'pg-load-approver-key-9876543210' };

let postgres: RunningPostgres | undefined;
const dir = tempDir('ratri-pg-load-');
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startReplica(database: string, port: number, config: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', String(port), '--database', database, '--config', config], {
    env: { ...process.env, RATRI_HOME: join(dir, 'home'), ...KEYS },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('listening on') && resolve(child));
    child.on('close', (code) => reject(new Error(`replica on ${port} exited with ${code}:\n${stderr}`)));
  });
}

async function api(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.RATRI_APPROVER_KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function sql<T>(database: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

function startProxy(n: number, port: number): ProxyProcess {
  const config = writeConfig(
    dir,
    {
      agentKey: `load-agent-${n}`,
      serverName: 'fs',
      mode: 'enforce',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      api: { url: `http://127.0.0.1:${port}` },
      store: `proxy-${n}.db`,
      telemetry: { jsonl: `events-${n}.jsonl` },
      guardFailureMode: 'fail_closed',
      approvalTimeoutMs: 60_000,
    },
    `proxy-${n}.json`,
  );
  const proxy = new ProxyProcess(['--config', config], { RATRI_HOME: join(dir, 'home'), RATRI_API_KEY: KEYS.RATRI_API_KEY });
  children.push(proxy.child);
  return proxy;
}

/** Sends the proxy its calls, WINDOW at a time; every HELD_EVERY-th one needs approval. Counts the answers. */
async function drive(proxy: ProxyProcess, answered: { n: number }): Promise<void> {
  proxy.send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'load', version: '1' } },
  });
  await proxy.response(0, 30_000);
  proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  for (let first = 1; first <= CALLS; first += WINDOW) {
    const ids = Array.from({ length: Math.min(WINDOW, CALLS - first + 1) }, (_, i) => first + i);
    for (const id of ids) {
      const path = id % HELD_EVERY === 0 ? `/secret/${id}` : `/public/${id}`;
      proxy.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'read_file', arguments: { path } } });
    }
    for (const id of ids) {
      await proxy.response(id, 60_000);
      answered.n++;
    }
  }
}

it(`${PROXIES} proxies × ${CALLS} calls through 2 replicas, one killed midway: every event stored once, every approval resolved once`, async () => {
  postgres = await startPostgres();
  const database = await postgres.newDatabase('ratri_load');
  const rules = [
    { id: 'secrets', tool: 'read_file', args: { path: { glob: '/secret/*' } }, decision: 'require_approval', reason: 'a human' },
  ];
  const config = writeConfig(dir, { agentKey: 'unused', guardrails: { rules } }, 'serve.json');
  const ports = [await freePort(), await freePort()];
  await startReplica(database, ports[0]!, config);
  const replicaB = await startReplica(database, ports[1]!, config);
  let replicaA = children[0]!;
  const started = Date.now();

  // The approver resolves every pending approval through replica B (which stays up), once a 100 ms.
  let resolvedOk = 0;
  let approving = true;
  const approver = (async () => {
    while (approving) {
      const pending = (await api(ports[1]!, 'GET', '/v1/approvals?status=pending')).body.approvals as Array<{ id: string }>;
      for (const a of pending) {
        const r = await api(ports[1]!, 'POST', `/v1/approvals/${a.id}/resolve`, { approve: true, resolvedBy: 'load' });
        if (r.status === 200) resolvedOk++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const proxies = Array.from({ length: PROXIES }, (_, n) => startProxy(n, ports[n % 2]!));
  const answered = { n: 0 };
  const driving = Promise.all(proxies.map((p) => drive(p, answered)));
  // Midway, replica A is killed (no clean shutdown) and started again on its port a second later.
  while (answered.n < (PROXIES * CALLS) / 2) await new Promise((r) => setTimeout(r, 20));
  const killedAt = Date.now();
  replicaA.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  replicaA = await startReplica(database, ports[0]!, config);
  await driving;
  const callsDone = Date.now();
  approving = false;
  await approver;
  // The proxies end (their input closed): each uploads what is left of its events before it exits.
  for (const p of proxies) p.child.stdin.end();
  await Promise.all(proxies.map((p) => p.exited));

  const recorded = proxies.flatMap((_, n) =>
    readFileSync(join(dir, `events-${n}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: string }).id),
  );
  const stored = await sql<{ id: string; n: number }>(database, 'SELECT id, count(*)::int AS n FROM events GROUP BY id');
  expect(stored.filter((r) => r.n !== 1)).toEqual([]);
  expect(new Set(recorded).size).toBe(recorded.length);
  expect(stored.map((r) => r.id).sort()).toEqual([...recorded].sort());

  const approvals = await sql<{ status: string; resolved_by: string | null; n: number }>(
    database,
    'SELECT status, resolved_by, count(*)::int AS n FROM approvals GROUP BY status, resolved_by',
  );
  const held = (PROXIES * CALLS) / HELD_EVERY;
  const total = approvals.reduce((s, r) => s + r.n, 0);
  // Calls that needed approval while replica A was away were refused (fail_closed) without one.
  expect(total).toBeGreaterThan(held / 2);
  expect(approvals).toEqual([{ status: 'approved', resolved_by: 'load', n: total }]);
  expect(resolvedOk).toBe(total);

  const figures = {
    calls: PROXIES * CALLS,
    seconds: (callsDone - started) / 1000,
    callsPerSecond: Math.round((PROXIES * CALLS) / ((callsDone - started) / 1000)),
    killedAfterSeconds: (killedAt - started) / 1000,
    eventsStored: stored.length,
    approvals: total,
  };
  process.stderr.write(`postgres load: ${JSON.stringify(figures)}\n`);
  replicaA.kill('SIGTERM');
  replicaB.kill('SIGTERM');
}, 600_000);
