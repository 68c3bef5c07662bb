/**
 * `ratri serve --database postgres://…` against a real PostgreSQL (tests/helpers/postgres.ts): two
 * replicas on one database are one control plane. A proxy whose api points at replica A holds a
 * call; it is approved through replica B and released at once (A learns of it by LISTEN/NOTIFY);
 * an event batch uploaded to both replicas is stored once; a database of a newer schema is refused;
 * with `telemetry.otlp` an evaluation's span joins the trace its `traceparent` header names.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../lib/control/pg-migrations.js';
import { cliPath, fixtureServer, ProxyProcess, runCli, tempDir, writeConfig } from '../helpers/cli.js';
import { FAKE } from '../helpers/fake-secrets.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { type RunningPostgres, startPostgres } from '../helpers/postgres.js';
import { killedAfterEach } from '../helpers/serve.js';

const KEY = 'pg-e2e-proxy-key-0123456789';
const APPROVER_KEY = 'pg-e2e-approver-key-9876543210';
const KEYS = { RATRI_API_KEY: KEY, RATRI_APPROVER_KEY: APPROVER_KEY };

let postgres: RunningPostgres;
let databases = 0;
const dirs: string[] = [];
// Nothing outlives its test: whatever is still running is killed and reaped.
const children = killedAfterEach();

beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workDir(): string {
  const dir = tempDir('ratri-pg-e2e-');
  dirs.push(dir);
  return dir;
}

const newDatabase = (): Promise<string> => postgres.newDatabase(`ratri_e2e_${++databases}`);

/** Starts one replica of `ratri serve` on `database` and waits for its "listening on" line. */
function startReplica(database: string | null, dir: string, config?: string): Promise<{ url: string; child: ChildProcess }> {
  const args = [cliPath, 'serve', '--port', '0', ...(database ? ['--database', database] : []), ...(config ? ['--config', config] : [])];
  const child = spawn(process.execPath, args, { env: { ...process.env, RATRI_HOME: join(dir, 'home'), ...KEYS } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ratri serve did not start within 15 s:\n${stderr}`)), 15_000);
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m =
        /^ratri serve: listening on (http:\/\/127\.0\.0\.1:\d+) \(database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+\)$/m.exec(
          stdout,
        );
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`ratri serve exited with ${code}:\n${stderr}`));
    });
  });
}

async function api(url: string, method: string, path: string, body?: unknown, key = KEY): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function sql<T>(database: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

function serveConfig(dir: string): string {
  const rules = [
    { id: 'secrets', tool: 'read_file', args: { path: { glob: '/secret/*' } }, decision: 'require_approval', reason: 'a human' },
  ];
  return writeConfig(dir, { agentKey: 'unused', guardrails: { rules } }, 'serve.json');
}

function startProxy(dir: string, url: string): ProxyProcess {
  const config = writeConfig(dir, {
    agentKey: 'pg-agent',
    serverName: 'fs',
    mode: 'enforce',
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    api: { url },
    store: 'proxy.db',
    approvalTimeoutMs: 20_000,
  });
  const proxy = new ProxyProcess(['--config', config], { RATRI_HOME: join(dir, 'home'), RATRI_API_KEY: KEY });
  children.push(proxy.child);
  return proxy;
}

/** A proxy on replica `url`, initialized. */
async function initializedProxy(dir: string, url: string): Promise<ProxyProcess> {
  const proxy = startProxy(dir, url);
  await proxy.initialize();
  return proxy;
}

async function pending(url: string): Promise<{ id: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await api(url, 'GET', '/v1/approvals?status=pending')).body.approvals[0];
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no pending approval within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ratri serve --database (PostgreSQL)', () => {
  it('two replicas are one control plane: a call held through A is released within 250 ms of its approval through B', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const config = serveConfig(dir);
    const [a, b] = [await startReplica(database, dir, config), await startReplica(database, dir, config)];
    const proxy = await initializedProxy(dir, a.url);
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/secret/a' } } });
    const held = await pending(b.url); // created through A, seen through B
    await new Promise((r) => setTimeout(r, 300)); // the proxy is now inside a long poll on A
    const approvedAt = Date.now();
    const resolved = await api(b.url, 'POST', `/v1/approvals/${held.id}/resolve`, { approve: true, resolvedBy: 'e2e' }, APPROVER_KEY);
    expect(resolved.status).toBe(200);
    const answer = await proxy.response(1);
    const releasedIn = Date.now() - approvedAt;
    expect(answer.result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    expect(releasedIn).toBeLessThan(250);
    const rows = await sql<{ status: string; resolved_by: string }>(database, 'SELECT status, resolved_by FROM approvals');
    expect(rows).toEqual([{ status: 'approved', resolved_by: 'e2e' }]);
  }, 60_000);

  it('a held call the host cancels ends its long poll at once: the approval is let go within 300 ms', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const a = await startReplica(database, dir, serveConfig(dir));
    const proxy = await initializedProxy(dir, a.url);
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/secret/d' } } });
    await pending(a.url);
    await new Promise((r) => setTimeout(r, 300)); // inside a long poll
    const probe = new pg.Client({ connectionString: database }); // one connection: a new one per look costs more than the wait
    await probe.connect();
    const cancelledAt = Date.now();
    proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'e2e' } });
    const query = "SELECT 1 FROM approvals WHERE status = 'expired' OR host_gone_at IS NOT NULL";
    try {
      while ((await probe.query(query)).rows.length === 0) {
        if (Date.now() - cancelledAt > 3_000) throw new Error('the approval was not let go within 3 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await probe.end();
    }
    // Without the cancel reaching the long poll, the approval waits for the poll's end (up to 1 s).
    expect(Date.now() - cancelledAt).toBeLessThan(300);
  }, 60_000);

  it("a replica's long poll answers when another replica resolves the approval (LISTEN/NOTIFY), not at its end", async () => {
    const dir = workDir();
    const database = await newDatabase();
    const config = serveConfig(dir);
    const [a, b] = [await startReplica(database, dir, config), await startReplica(database, dir, config)];
    const request = {
      agentKey: 'pg-agent',
      serverName: 'fs',
      environment: 'test',
      tool: 'read_file',
      arguments: { path: '/secret/b' },
      mode: 'enforce',
    };
    const evaluated = await api(a.url, 'POST', '/v1/guard/evaluate', request);
    expect(evaluated.body).toMatchObject({ decision: 'require_approval', ruleId: 'secrets' });
    const id = evaluated.body.approvalId as string;
    const started = Date.now();
    const waiting = api(a.url, 'GET', `/v1/approvals/${id}?waitMs=4000`);
    await new Promise((r) => setTimeout(r, 500));
    await api(b.url, 'POST', `/v1/approvals/${id}/resolve`, { approve: false }, APPROVER_KEY);
    const answer = await waiting;
    const took = Date.now() - started;
    expect(answer.body.status).toBe('rejected');
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(1500);
  }, 60_000);

  it('a replica whose LISTEN connection is cut listens again, and its long polls answer at once after', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const config = serveConfig(dir);
    const [a, b] = [await startReplica(database, dir, config), await startReplica(database, dir, config)];
    const cut = await sql<{ cut: boolean }>(
      database,
      "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()",
    );
    expect(cut).toEqual([{ cut: true }, { cut: true }]);
    await new Promise((r) => setTimeout(r, 1_500)); // both replicas listen again after a second
    const request = { agentKey: 'pg-agent', serverName: 'fs', environment: 'test', tool: 'read_file', arguments: { path: '/secret/c' } };
    const id = (await api(a.url, 'POST', '/v1/guard/evaluate', { ...request, mode: 'enforce' })).body.approvalId as string;
    const started = Date.now();
    const waiting = api(a.url, 'GET', `/v1/approvals/${id}?waitMs=4000`);
    await new Promise((r) => setTimeout(r, 500));
    await api(b.url, 'POST', `/v1/approvals/${id}/resolve`, { approve: true }, APPROVER_KEY);
    expect((await waiting).body.status).toBe('approved');
    expect(Date.now() - started).toBeLessThan(1500);
    const listening = await sql(database, "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()");
    expect(listening).toHaveLength(2);
  }, 60_000);

  it('approving "always" through one replica stores the boundary, the trusted definition and a grant the other replica honours', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const config = serveConfig(dir);
    const [a, b] = [await startReplica(database, dir, config), await startReplica(database, dir, config)];
    const tool = { name: 'read_file', description: 'Reads a file', inputSchema: { type: 'object' } };
    const define = { agentKey: 'pg-agent', serverName: 'fs', tools: [tool] };
    expect((await api(a.url, 'POST', '/v1/tools/define', define)).body).toEqual({ registered: 1, changed: [] });
    const changed = { ...define, tools: [{ ...tool, description: 'Reads a file (v2)' }] };
    expect((await api(b.url, 'POST', '/v1/tools/define', changed)).body).toEqual({ registered: 1, changed: ['read_file'] });
    expect((await api(a.url, 'POST', '/v1/tools/define', changed)).body).toEqual({ registered: 1, changed: [] }); // reported once

    const request = { agentKey: 'pg-agent', serverName: 'fs', environment: 'test', tool: 'read_file', mode: 'enforce' };
    const held = await api(a.url, 'POST', '/v1/guard/evaluate', { ...request, arguments: { path: '/secret/e' } });
    const id = held.body.approvalId as string;
    const resolved = await api(b.url, 'POST', `/v1/approvals/${id}/resolve`, { approve: true, scope: 'always' }, APPROVER_KEY);
    expect(resolved.body.grant).toMatchObject({ kind: 'always', tool: 'read_file', argsMatch: false });
    expect(await sql(database, 'SELECT agent_key, tool FROM boundary')).toEqual([{ agent_key: 'pg-agent', tool: 'read_file' }]);
    expect(await sql(database, 'SELECT definition_hash = trusted_hash AS trusted FROM tools')).toEqual([{ trusted: true }]);

    const again = await api(a.url, 'POST', '/v1/guard/evaluate', { ...request, arguments: { path: '/secret/f' } });
    expect(again.body).toMatchObject({ decision: 'allow', grantId: resolved.body.grant.id });
    expect((await api(b.url, 'GET', '/v1/grants')).body.grants).toHaveLength(1);
    const revoked = await api(a.url, 'POST', `/v1/grants/${resolved.body.grant.id}/revoke`, undefined, APPROVER_KEY);
    expect(revoked.body).toMatchObject({ changed: true });
    const after = await api(b.url, 'POST', '/v1/guard/evaluate', { ...request, arguments: { path: '/secret/g' } });
    expect(after.body).toMatchObject({ decision: 'require_approval', ruleId: 'secrets' });
  }, 60_000);

  it('stores an event batch uploaded to both replicas once (idempotent by event id)', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const [a, b] = [await startReplica(database, dir), await startReplica(database, dir)];
    const events = Array.from({ length: 50 }, (_, i) => ({
      id: `evt_pg_${i}`,
      ts: new Date(1_700_000_000_000 + i).toISOString(),
      type: 'agent.tool.called',
      agentKey: 'pg-agent',
      environment: 'test',
      serverName: 'fs',
      sessionId: 's1',
      data: { tool: 'fs.read_file', decision: 'allow' },
    }));
    expect((await api(a.url, 'POST', '/v1/events', { events })).body).toEqual({ accepted: 50 });
    expect((await api(b.url, 'POST', '/v1/events', { events })).body).toEqual({ accepted: 0 });
    expect((await api(a.url, 'POST', '/v1/events', { events: events.slice(40) })).body).toEqual({ accepted: 0 });
    const rows = await sql<{ n: number; ids: number }>(database, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM events');
    expect(rows).toEqual([{ n: 50, ids: 50 }]);
  }, 60_000);

  it('exports a span per evaluation (telemetry.otlp), in the trace its traceparent header names, with the resource redacted', async () => {
    const receiver = await new OtlpReceiver().start();
    try {
      const dir = workDir();
      const otlp = { endpoint: receiver.url, protocol: 'http/json' };
      const rules = [{ id: 'no-deletes', tool: 'delete_file', decision: 'block' }];
      const config = writeConfig(dir, { agentKey: 'unused', guardrails: { rules }, telemetry: { otlp } }, 'serve-otel.json');
      const replica = await startReplica(await newDatabase(), dir, config);
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const request = { agentKey: 'a', environment: 'test', serverName: 'fs', tool: 'delete_file', sessionId: 's-1', requestId: '7' };
      const res = await fetch(`${replica.url}/v1/guard/evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({ ...request, arguments: { path: `/tmp/${FAKE.github}` } }),
      });
      expect(((await res.json()) as { decision: string }).decision).toBe('block');
      const closed = new Promise((r) => replica.child.once('close', r));
      replica.child.kill('SIGTERM'); // exports what is queued before it exits
      await closed;
      const spans = receiver.spans();
      expect(spans.map((span) => [span.name, span.traceId, span.parentSpanId])).toEqual([
        ['guard/evaluate delete_file', traceId, '00f067aa0ba902b7'],
      ]);
      expect(spans[0]!.attributes).toMatchObject({ 'ratri.decision': 'block', 'ratri.rule_id': 'no-deletes', 'mcp.session.id': 's-1' });
      expect(spans[0]!.attributes['ratri.resource']).toMatch(/^file:\/tmp\/\[REDACTED:[a-z-]+\]$/);
    } finally {
      await receiver.stop();
    }
  }, 60_000);

  it("takes the database from the config's top-level database when no --database or --store is given", async () => {
    const dir = workDir();
    const database = await newDatabase();
    const config = writeConfig(dir, { agentKey: 'unused', database }, 'serve-db.json');
    const replica = await startReplica(null, dir, config);
    expect((await api(replica.url, 'POST', '/v1/events', { events: [] })).body).toEqual({ accepted: 0 });
    expect(await sql(database, 'SELECT version FROM ratri_schema')).toEqual([{ version: PG_MIGRATIONS.length }]);
  }, 60_000);

  it('refuses a database of a newer schema, a URL that is not PostgreSQL, and a server it cannot reach, naming the fix', async () => {
    const dir = workDir();
    const database = await newDatabase();
    const first = await startReplica(database, dir);
    first.child.kill('SIGTERM');
    await sql(database, 'UPDATE ratri_schema SET version = 99');
    const env = { RATRI_HOME: join(dir, 'home'), ...KEYS };
    const newer = await runCli(['serve', '--port', '0', '--database', database], '', env);
    expect(newer.code).toBe(1);
    expect(newer.stderr).toMatch(
      new RegExp(
        `the database postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/\\w+ has schema version 99, newer than this ratri knows \\(${PG_MIGRATIONS.length}\\); upgrade ratri`,
      ),
    );
    expect(newer.stderr).not.toContain('ratri-test'); // the password is never printed

    const notPg = await runCli(['serve', '--port', '0', '--database', 'mysql://db/x'], '', env);
    expect(notPg.code).toBe(1);
    expect(notPg.stderr).toContain('--database: mysql:// is not PostgreSQL; use postgres://USER@HOST:PORT/DATABASE');

    const away = await runCli(['serve', '--port', '0', '--database', `postgres://postgres@127.0.0.1:1/ratri`], '', env);
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('cannot reach PostgreSQL at postgres://postgres@127.0.0.1:1/ratri (ECONNREFUSED)');
  }, 60_000);
});
