/**
 * The remote control plane, end to end: a real `ratri serve` child on loopback, real proxies whose
 * config points `api.url` at it, and the fixture upstream tools-server.mjs. Nothing is mocked; the
 * API "goes away" by killing the serve process, and comes back by starting it again on the same
 * port and store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, fixtureServer, ProxyProcess, runCli, tempDir, writeConfig } from '../helpers/cli.js';
import { killedAfterEach } from '../helpers/serve.js';

const KEY = 'e2e-secret-key-0123456789';
const KEY_ENV = 'RATRI_E2E_API_KEY';
const APPROVER_KEY = 'e2e-approver-key-9876543210';
const APPROVER_ENV = 'RATRI_E2E_APPROVER_KEY';
/** Both keys, as most tests start ratri serve. */
const BOTH_KEYS = { [KEY_ENV]: KEY, [APPROVER_ENV]: APPROVER_KEY };
const AGENT = 'remote-agent';

const dirs: string[] = [];
// Nothing outlives its test: whatever is still running is killed and reaped.
const children = killedAfterEach();
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workDir(): { dir: string; home: string } {
  const dir = tempDir('ratri-remote-');
  dirs.push(dir);
  return { dir, home: join(dir, 'home') };
}

interface Serve {
  child: ChildProcess;
  url: string;
  port: number;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `ratri serve` with the keys in `keys` (both by default) and waits for its "listening on" line. */
function startServe(args: string[], home: string, keys: Record<string, string> = BOTH_KEYS): Promise<Serve> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    RATRI_HOME: home,
    [KEY_ENV]: undefined,
    [APPROVER_ENV]: undefined,
    ...keys,
  };
  const child = spawn(process.execPath, [cliPath, 'serve', '--key-env', KEY_ENV, '--approver-key-env', APPROVER_ENV, ...args], { env });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ratri serve did not start within 10 s; stderr:\n${stderr}`)), 10_000);
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^ratri serve: listening on (http:\/\/127\.0\.0\.1:(\d+)) \(store (.+)\)$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      resolve({ child, url: m[1]!, port: Number(m[2]), stderr: () => stderr, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ratri serve exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
}

/** A config for `ratri serve --config`: the server's own rules, and no upstream (serve needs none). */
function serveConfig(dir: string): string {
  return writeConfig(
    dir,
    {
      agentKey: 'unused-by-serve',
      guardrails: {
        rules: [
          { id: 'server-no-deletes', tool: 'delete_file', decision: 'block', reason: 'deletes are off (server rule)' },
          {
            id: 'server-secrets',
            tool: 'read_file',
            args: { path: { glob: '/secret/*' } },
            decision: 'require_approval',
            reason: 'secrets need a human',
          },
        ],
      },
    },
    'serve.json',
  );
}

function startProxy(dir: string, home: string, url: string, extra: Record<string, unknown> = {}): ProxyProcess {
  const config = writeConfig(dir, {
    agentKey: AGENT,
    serverName: 'fs',
    mode: 'enforce',
    environment: 'test',
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    api: { url, keyEnv: KEY_ENV },
    store: 'proxy.db',
    telemetry: { jsonl: 'events.jsonl' },
    redactKeys: ['password'],
    approvalTimeoutMs: 20_000,
    guardTimeoutMs: 1500,
    guardrails: {
      rules: [
        { id: 'local-no-exec', tool: 'exec', decision: 'block', reason: 'no shell (local rule)' },
        { id: 'local-writes', tool: 'write_file', decision: 'require_approval', reason: 'writes need a human (local rule)' },
      ],
    },
    ...extra,
  });
  const proxy = new ProxyProcess(['--config', config], { RATRI_HOME: home, [KEY_ENV]: KEY });
  children.push(proxy.child);
  return proxy;
}

function call(proxy: ProxyProcess, id: number, name: string, args: Record<string, unknown> = {}): void {
  proxy.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = KEY,
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** One request with exactly these headers (node:http, so Host, Origin and Content-Type can be anything). */
function rawApi(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs one query on a store another process is using (WAL: reading never blocks it). */
function query<T>(store: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(store, { fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function jsonlEvents(dir: string): Array<{ id: string; type: string; data: Record<string, any> }> {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Every event of the proxy's telemetry.jsonl is in the server's store exactly once, and nothing else of that agent is. */
function expectUploadedExactlyOnce(dir: string, serverStore: string): void {
  const sent = jsonlEvents(dir).map((e) => e.id);
  const stored = query<{ id: string }>(serverStore, 'SELECT id FROM events WHERE agent_key = ?', AGENT).map((r) => r.id);
  expect(sent.length).toBeGreaterThan(0);
  expect(new Set(sent).size).toBe(sent.length);
  expect([...stored].sort()).toEqual([...sent].sort());
  expect(query<{ n: number }>(join(dir, 'proxy.db'), 'SELECT count(*) AS n FROM outbox')[0]!.n).toBe(0);
}

async function pendingApproval(url: string, tool: string): Promise<{ id: string; arguments: Record<string, unknown>; requestId: string }> {
  return eventually(`a pending approval for ${tool}`, async () => {
    const { body } = await api(url, 'GET', '/v1/approvals?status=pending');
    return (body.approvals as Array<{ id: string; tool: string; arguments: Record<string, unknown>; requestId: string }>).find(
      (a) => a.tool === tool,
    );
  });
}

describe('ratri serve: the control-plane HTTP API', () => {
  it('asks every /v1 route for the bearer key, answers /healthz without one, and names what is wrong', async () => {
    const { dir, home } = workDir();
    const serve = await startServe(['--port', '0', '--store', join(dir, 'server.db'), '--config', serveConfig(dir)], home);
    expect(await api(serve.url, 'GET', '/healthz', undefined, null)).toMatchObject({ status: 200, body: { ok: true } });
    const routes: Array<[string, string]> = [
      ['POST', '/v1/guard/evaluate'],
      ['POST', '/v1/events'],
      ['POST', '/v1/tools/define'],
      ['GET', '/v1/approvals'],
      ['GET', '/v1/approvals/apr_x'],
      ['POST', '/v1/approvals/apr_x/resolve'],
    ];
    for (const [method, path] of routes) {
      for (const key of [null, 'wrong-key']) {
        const res = await api(serve.url, method, path, method === 'POST' ? {} : undefined, key);
        expect(res.status, `${method} ${path} with key ${key}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(res.body.error).toMatch(key ? /not valid/ : /Authorization: Bearer/);
      }
    }
    const evaluate = { agentKey: AGENT, environment: 'test', serverName: 'fs', tool: 'delete_file', arguments: { path: '/a' } };
    expect(await api(serve.url, 'POST', '/v1/guard/evaluate', evaluate)).toMatchObject({
      status: 200,
      body: { decision: 'block', ruleId: 'server-no-deletes', reason: 'deletes are off (server rule)' },
    });
    const bad = await api(serve.url, 'POST', '/v1/guard/evaluate', { ...evaluate, tool: 7, arguments: undefined });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/tool: must be a string/);
    expect(bad.body.error).toMatch(/arguments: is required/);
    expect((await api(serve.url, 'POST', '/v1/events', { events: [{ id: 'x' }] })).body.error).toMatch(/events\[0\]\.type: is required/);
    expect(await api(serve.url, 'GET', '/v1/approvals/apr_none')).toMatchObject({
      status: 404,
      body: { error: 'there is no approval apr_none' },
    });
    expect((await api(serve.url, 'GET', '/v1/nothing')).status).toBe(404);
    // A body over the 8 MiB limit: 413 naming it, and the server goes on.
    const huge = await api(serve.url, 'POST', '/v1/events', { events: [], pad: 'x'.repeat(9 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatch(/larger than 8388608 bytes; send smaller batches/);
    expect((await api(serve.url, 'GET', '/healthz', undefined, null)).status).toBe(200);
    const wrongMethod = await api(serve.url, 'GET', '/v1/tools/define');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const events = await api(serve.url, 'PUT', '/v1/events');
    expect(events.status).toBe(405);
    expect(events.headers.get('allow')).toBe('POST, GET');

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('refuses a non-loopback address without a key (exit 2), and a port in use (exit 1)', async () => {
    const { dir, home } = workDir();
    const open = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--key-env', 'RATRI_E2E_UNSET_KEY'], '', { RATRI_HOME: home });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/without an API key[\s\S]*fix: export RATRI_E2E_UNSET_KEY=/);
    const serve = await startServe(['--port', '0', '--store', join(dir, 'server.db')], home);
    const clash = await runCli(['serve', '--port', String(serve.port), '--store', join(dir, 'other.db')], '', {
      RATRI_HOME: home,
      [KEY_ENV]: KEY,
    });
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`port ${serve.port} on 127.0.0.1 is already in use`);
  });

  it('tells keys apart by role: a proxy key cannot resolve an approval (403), the approver key can, also through ratri approvals', async () => {
    const { dir, home } = workDir();
    const serve = await startServe(['--port', '0', '--store', join(dir, 'server.db'), '--config', serveConfig(dir)], home);
    const proxy = startProxy(dir, home, serve.url);
    await proxy.initialize();
    call(proxy, 1, 'read_file', { path: '/secret/a' });
    const held = await pendingApproval(serve.url, 'read_file'); // listed with the proxy key
    const forged = await api(serve.url, 'POST', `/v1/approvals/${held.id}/resolve`, { approve: true }, KEY);
    expect(forged.status).toBe(403);
    expect(forged.body.error).toMatch(/needs the approver key .*--approver-key-env.*this is a proxy key/);
    expect((await api(serve.url, 'GET', `/v1/approvals/${held.id}`)).body.status).toBe('pending');

    // ratri approvals on the proxy's config: with the proxy key alone it is refused and says why…
    const config = join(dir, 'ratri.mcp.json');
    const env = { RATRI_HOME: home, [KEY_ENV]: KEY, RATRI_APPROVER_KEY: '' };
    const refused = await runCli(['approvals', 'approve', held.id, '--config', config], '', env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 403 to POST \/v1\/approvals\/apr_\w+\/resolve: resolving approvals needs the approver key/);
    expect((await api(serve.url, 'GET', `/v1/approvals/${held.id}`)).body.status).toBe('pending');
    // …a variable named by --approver-key-env that is not set is an error of its own, not a fall back to the proxy key…
    const unset = await runCli(
      ['approvals', 'approve', held.id, '--config', config, '--approver-key-env', 'RATRI_TEST_UNSET_KEY'],
      '',
      env,
    );
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/--approver-key-env: the environment variable RATRI_TEST_UNSET_KEY is not set/);
    const unsetRevoke = await runCli(
      ['grants', 'revoke', 'grt_0000000000', '--config', config, '--approver-key-env', 'RATRI_TEST_UNSET_KEY'],
      '',
      env,
    );
    expect(unsetRevoke.code).toBe(2);
    expect((await api(serve.url, 'GET', `/v1/approvals/${held.id}`)).body.status).toBe('pending');
    // …with the approver key it resolves, and the held call goes through.
    const approved = await runCli(['approvals', 'approve', held.id, '--config', config, '--approver-key-env', APPROVER_ENV], '', {
      ...env,
      [APPROVER_ENV]: APPROVER_KEY,
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved apr_\w+: fs\.read_file/);
    expect((await proxy.response(1)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    // An approver's own config names the API and its key, and no upstream: ratri approvals never starts one.
    const approverConfig = writeConfig(dir, { agentKey: 'ops', api: { url: serve.url, keyEnv: APPROVER_ENV } }, 'approver.mcp.json');
    // It keeps nothing on the approver's machine either: no store is made in its RATRI_HOME.
    const approverHome = join(dir, 'approver-home');
    mkdirSync(approverHome);
    const shown = await runCli(['approvals', 'show', held.id, '--config', approverConfig], '', {
      ...env,
      RATRI_HOME: approverHome,
      [APPROVER_ENV]: APPROVER_KEY,
    });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/approved/);
    expect(readdirSync(approverHome)).toEqual([]);

    // Grants through the API: --always stores one on the server, ratri grants lists and revokes it there.
    const approver = { ...env, [APPROVER_ENV]: APPROVER_KEY };
    call(proxy, 2, 'read_file', { path: '/secret/b' });
    const second = await pendingApproval(serve.url, 'read_file');
    const always = await runCli(
      ['approvals', 'approve', second.id, '--always', '--config', config, '--approver-key-env', APPROVER_ENV],
      '',
      approver,
    );
    expect(always.code, always.stderr).toBe(0);
    expect(always.stdout).toMatch(/grant grt_\w+ lets its calls pass rule "server-secrets"/);
    await proxy.response(2);
    const listed = await runCli(['grants', 'list', '--json', '--config', config], '', env);
    expect(listed.code, listed.stderr).toBe(0);
    const [grant] = JSON.parse(listed.stdout) as Array<{ id: string; kind: string; tool: string }>;
    expect(grant).toMatchObject({ kind: 'always', tool: 'read_file' });
    call(proxy, 3, 'read_file', { path: '/secret/c' });
    expect((await proxy.response(3)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    const revoked = await runCli(['grants', 'revoke', grant!.id, '--config', config, '--approver-key-env', APPROVER_ENV], '', approver);
    expect(revoked.code, revoked.stderr).toBe(0);
    call(proxy, 4, 'read_file', { path: '/secret/c' });
    expect(await pendingApproval(serve.url, 'read_file')).toMatchObject({ requestId: '4' });
  });

  it('with only the proxy key, approvals cannot be resolved over the API; one key for both roles is refused (exit 2)', async () => {
    const { dir, home } = workDir();
    const serve = await startServe(['--port', '0', '--store', join(dir, 'server.db')], home, { [KEY_ENV]: KEY });
    expect(serve.stderr()).toMatch(
      /no RATRI_E2E_APPROVER_KEY: approvals cannot be resolved over the API, only with "ratri approvals --store"/,
    );
    const resolve = await api(serve.url, 'POST', '/v1/approvals/apr_0000000000/resolve', { approve: true }, KEY);
    expect(resolve.status).toBe(403);
    expect(resolve.body.error).toMatch(/approver key/);
    const same = await runCli(['serve', '--port', '0', '--key-env', KEY_ENV, '--approver-key-env', APPROVER_ENV], '', {
      RATRI_HOME: home,
      [KEY_ENV]: KEY,
      [APPROVER_ENV]: KEY,
    });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/hold the same key[\s\S]*fix: give RATRI_E2E_APPROVER_KEY a key of its own/);
  });

  it('without a key answers only programs on this machine: a foreign Host 421, another site 403, a POST that is not JSON 415', async () => {
    const { dir, home } = workDir();
    const serve = await startServe(['--port', '0', '--store', join(dir, 'server.db'), '--config', serveConfig(dir)], home, {});
    // No grant window: a cancelled call's approval is expired at once (docs/control-plane.md, "Grants").
    const proxy = startProxy(dir, home, serve.url, { api: { url: serve.url, keyEnv: null }, approvals: { grantWindowMs: 0 } });
    await proxy.initialize();
    call(proxy, 1, 'read_file', { path: '/secret/a' });
    const held = await pendingApproval(serve.url, 'read_file');
    const resolvePath = `/v1/approvals/${held.id}/resolve`;
    const json = { 'Content-Type': 'application/json' };
    const approve = JSON.stringify({ approve: true });
    const attempts = [
      // DNS rebinding: a page whose own name points at 127.0.0.1.
      await rawApi(serve.port, 'GET', '/v1/approvals', { Host: `evil.example:${serve.port}` }),
      await rawApi(serve.port, 'POST', resolvePath, { ...json, Host: `evil.example:${serve.port}` }, approve),
      // A page of another site: its Origin, or (a plain GET such as an <img>) only Sec-Fetch-Site.
      await rawApi(serve.port, 'GET', '/v1/approvals', { Origin: 'https://evil.example' }),
      await rawApi(serve.port, 'POST', resolvePath, { ...json, Origin: 'https://evil.example' }, approve),
      await rawApi(serve.port, 'GET', '/v1/approvals', { 'Sec-Fetch-Site': 'cross-site' }),
      await rawApi(serve.port, 'GET', '/v1/approvals', { 'Sec-Fetch-Site': 'same-site' }),
      // A cross-site form or text/plain fetch needs no preflight: refused for not being JSON.
      await rawApi(serve.port, 'POST', resolvePath, { 'Content-Type': 'text/plain' }, approve),
      await rawApi(serve.port, 'POST', resolvePath, {}, approve),
      await rawApi(serve.port, 'POST', '/v1/events', { 'Content-Type': 'application/x-www-form-urlencoded' }, '{"events":[]}'),
    ];
    expect(attempts.map((a) => a.status)).toEqual([421, 421, 403, 403, 403, 403, 415, 415, 415]);
    expect(attempts[0]!.body.error).toMatch(/Host header "evil\.example:\d+" does not name this server/);
    expect(attempts[2]!.body.error).toMatch(/Origin "https:\/\/evil\.example" is not allowed/);
    expect(attempts[6]!.body.error).toMatch(/Content-Type: application\/json/);
    expect((await api(serve.url, 'GET', `/v1/approvals/${held.id}`)).body.status).toBe('pending');
    // Programs on this machine (and a page on localhost) still use it, the proxy included: the host
    // cancels the held call and the proxy's body-less POST …/expire is accepted.
    expect((await rawApi(serve.port, 'GET', '/v1/approvals', { Origin: 'http://localhost:5173' })).status).toBe(200);
    proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await eventually("the cancelled call's approval to expire", async () =>
      (await api(serve.url, 'GET', `/v1/approvals/${held.id}`)).body.status === 'expired' ? true : undefined,
    );
  });

  it("enforces the server's rules through a proxy, holds calls for approvals resolved over the API, and stores every event once", async () => {
    const { dir, home } = workDir();
    const serverStore = join(dir, 'server.db');
    const serve = await startServe(['--port', '0', '--store', serverStore, '--config', serveConfig(dir)], home);
    const proxy = startProxy(dir, home, serve.url);
    await proxy.initialize();

    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(((await proxy.response(1)).result as { tools: unknown[] }).tools).toHaveLength(2);
    const registered = await eventually('the tools registered on the server', () => {
      const rows = query<{ name: string }>(
        serverStore,
        'SELECT name FROM tools WHERE agent_key = ? AND server_name = ? ORDER BY name',
        AGENT,
        'fs',
      );
      return rows.length === 2 ? rows.map((r) => r.name) : undefined;
    });
    expect(registered).toEqual(['delete_file', 'read_file']);

    call(proxy, 2, 'delete_file', { path: '/a' });
    expect((await proxy.response(2)).error).toMatchObject({
      code: -32001,
      data: { decision: 'block', ruleId: 'server-no-deletes', tool: 'fs.delete_file' },
    });
    call(proxy, 3, 'exec', { command: 'ls' });
    expect((await proxy.response(3)).error).toMatchObject({
      code: -32001,
      data: { ruleId: 'local-no-exec', reason: 'no shell (local rule)' },
    });

    // Held until a human approves over the API; only then does the upstream get the call.
    call(proxy, 4, 'read_file', { path: '/secret/a' });
    const first = await pendingApproval(serve.url, 'read_file');
    expect(first.requestId).toBe('4');
    expect(proxy.unread.some((l) => JSON.parse(l).id === 4)).toBe(false);
    const approved = await api(serve.url, 'POST', `/v1/approvals/${first.id}/resolve`, { approve: true, resolvedBy: 'e2e' }, APPROVER_KEY);
    expect(approved).toMatchObject({
      status: 200,
      body: { changed: true, approval: { id: first.id, status: 'approved', resolvedBy: 'e2e', scope: 'once' } },
    });
    expect((await proxy.response(4)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    const again = await api(serve.url, 'POST', `/v1/approvals/${first.id}/resolve`, { approve: false }, APPROVER_KEY);
    expect(again).toMatchObject({ status: 409, body: { changed: false, approval: { status: 'approved' } } });
    expect(again.body.error).toMatch(/already approved by e2e/);

    call(proxy, 5, 'read_file', { path: '/secret/b' });
    const second = await pendingApproval(serve.url, 'read_file');
    expect((await api(serve.url, 'POST', `/v1/approvals/${second.id}/resolve`, { approve: false }, APPROVER_KEY)).status).toBe(200);
    expect((await proxy.response(5)).error).toMatchObject({
      code: -32002,
      data: { decision: 'require_approval', approvalId: second.id, outcome: 'rejected', ruleId: 'server-secrets' },
    });

    // A local require_approval rule: the server creates the approval (the proxy cannot), with redacted arguments.
    call(proxy, 6, 'write_file', { path: '/tmp/x', password: 'hunter2' });
    const write = await pendingApproval(serve.url, 'write_file');
    expect(write.arguments).toEqual({ path: '/tmp/x', password: '[REDACTED]' });
    await api(serve.url, 'POST', `/v1/approvals/${write.id}/resolve`, { approve: true }, APPROVER_KEY);
    expect((await proxy.response(6)).result).toEqual({ content: [{ type: 'text', text: 'called write_file' }] });

    // The host cancels a held call: the proxy tells the API at once (POST …/expire). With the default
    // grant window the approval stays pending, marked host-gone; approving it makes a once grant, and
    // the host's retry of the same call passes without a new hold (the server's grant, docs/api.md).
    call(proxy, 7, 'read_file', { path: '/secret/c' });
    const cancelled = await pendingApproval(serve.url, 'read_file');
    proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'the user gave up' } });
    const gone = await eventually("the cancelled call's approval to be marked host-gone on the server", async () => {
      const r = await api(serve.url, 'GET', `/v1/approvals/${cancelled.id}`);
      return r.body.hostGoneAt ? r.body : undefined;
    });
    expect(gone.status).toBe('pending');
    const late = await api(serve.url, 'POST', `/v1/approvals/${cancelled.id}/resolve`, { approve: true }, APPROVER_KEY);
    expect(late).toMatchObject({ status: 200, body: { changed: true, grant: { kind: 'once', tool: 'read_file', argsMatch: true } } });
    const grants = await api(serve.url, 'GET', '/v1/grants');
    expect(grants.body.grants).toEqual([expect.objectContaining({ id: late.body.grant.id })]);
    call(proxy, 8, 'read_file', { path: '/secret/c' });
    expect((await proxy.response(8)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    expect((await api(serve.url, 'GET', '/v1/grants')).body.grants).toEqual([]);
    expect((await api(serve.url, 'POST', `/v1/grants/${late.body.grant.id}/revoke`)).status).toBe(403); // a proxy key cannot
    // The route itself: a decided approval stays as it was; an unknown one is 404.
    expect(await api(serve.url, 'POST', `/v1/approvals/${first.id}/expire`)).toMatchObject({
      status: 200,
      body: { changed: false, approval: { status: 'approved' } },
    });
    expect((await api(serve.url, 'POST', '/v1/approvals/apr_0000000000/expire')).status).toBe(404);

    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    expectUploadedExactlyOnce(dir, serverStore);
    expect(
      jsonlEvents(dir)
        .filter((e) => e.type === 'agent.approval.resolved')
        .map((e) => e.data.outcome),
    ).toEqual(['approved', 'rejected', 'approved', 'cancelled']);
  });

  it('fail_open: allows calls while the API is away, keeps events in the outbox, and uploads them once when it is back', async () => {
    const { dir, home } = workDir();
    const serverStore = join(dir, 'server.db');
    const serve = await startServe(['--port', '0', '--store', serverStore, '--config', serveConfig(dir)], home);
    const proxy = startProxy(dir, home, serve.url, { guardFailureMode: 'fail_open' });
    await proxy.initialize();
    call(proxy, 1, 'read_file', { path: '/tmp/a' });
    expect((await proxy.response(1)).result).toBeDefined();

    serve.child.kill('SIGKILL');
    await serve.exited;
    call(proxy, 2, 'delete_file', { path: '/tmp/b' }); // the server would block it; nobody is there to say so
    expect((await proxy.response(2)).result).toEqual({ content: [{ type: 'text', text: 'called delete_file' }] });
    const verdict = await eventually('the guardrail event of call 2', () =>
      jsonlEvents(dir).find((e) => e.type === 'agent.guardrail.evaluated' && e.data.requestId === '2'),
    );
    expect(verdict.data).toMatchObject({ decision: 'allow', failure: expect.stringMatching(/cannot reach the control plane/) });
    const proxyStore = join(dir, 'proxy.db');
    await eventually('events in the outbox', () =>
      query<{ n: number }>(proxyStore, 'SELECT count(*) AS n FROM outbox')[0]!.n > 0 ? true : undefined,
    );

    // Back on the same port and store: the proxy's background drain uploads the outbox by itself.
    await startServe(['--port', String(serve.port), '--store', serverStore, '--config', serveConfig(dir)], home);
    await eventually(
      'the outbox to be uploaded',
      () => {
        const stored = new Set(query<{ id: string }>(serverStore, 'SELECT id FROM events WHERE agent_key = ?', AGENT).map((r) => r.id));
        return jsonlEvents(dir).every((e) => stored.has(e.id)) ? true : undefined;
      },
      20_000,
    );
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    expectUploadedExactlyOnce(dir, serverStore);
    expect(proxy.stderr).toMatch(/they are kept in the outbox of .*proxy\.db, and uploaded when the control plane answers/);
  });

  it('fail_closed: blocks with "control plane unavailable" while the API is away, and leaves unsent events on disk', async () => {
    const { dir, home } = workDir();
    const serverStore = join(dir, 'server.db');
    const serve = await startServe(['--port', '0', '--store', serverStore, '--config', serveConfig(dir)], home);
    const proxy = startProxy(dir, home, serve.url, { guardFailureMode: 'fail_closed' });
    await proxy.initialize();
    serve.child.kill('SIGKILL');
    await serve.exited;
    call(proxy, 1, 'read_file', { path: '/tmp/a' });
    expect((await proxy.response(1)).error).toMatchObject({
      code: -32001,
      data: { decision: 'block', ruleId: null, reason: 'control plane unavailable', tool: 'fs.read_file' },
    });
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    // What the API took before it went away is on the server; everything after waits in the outbox.
    const sent = jsonlEvents(dir);
    const uploaded = query<{ id: string }>(serverStore, 'SELECT id FROM events').map((r) => r.id);
    const left = query<{ event: string }>(join(dir, 'proxy.db'), 'SELECT event FROM outbox ORDER BY seq').map(
      (r) => JSON.parse(r.event).id,
    );
    expect(left).toContain(sent.find((e) => e.type === 'mcp.session.ended')!.id);
    expect([...new Set([...uploaded, ...left])].sort()).toEqual(sent.map((e) => e.id).sort());
    // One message about the outbox, saying what becomes of the events, not one more at exit.
    expect(proxy.stderr.match(/outbox/g), proxy.stderr).toHaveLength(1);
    expect(proxy.stderr).toContain(
      `they are kept in the outbox of ${join(dir, 'proxy.db')}, and uploaded when the control plane answers: by this proxy, which keeps trying every 1 to 10 s while it runs, or else by the next ratri proxy that uses this store`,
    );
  });
});
