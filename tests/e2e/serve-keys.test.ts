/**
 * Keys for teams on `ratri serve` (docs/api.md, "Keys for teams"), end to end: keys made with the
 * built CLI (`ratri serve keys add|remove`), a real `ratri serve --keys FILE` on loopback with its
 * SQLite store (and one case on a real PostgreSQL), requests over real HTTP and a real proxy with
 * the fixture upstream. A proxy key bound to agent alice cannot read or write bob's data; a scoped
 * approver key resolves only its agents' approvals; keys rotate without a restart, and a keys file
 * that turns bad keeps the keys read before.
 */
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureServer, ProxyProcess, runCli, tempDir, writeConfig } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';
import { addServeKey as addKey, apiRequest as api, killedAfterEach, type ServeProcess, startServe } from '../helpers/serve.js';

const dirs: string[] = [];
const children = killedAfterEach();
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function workDir(): string {
  const dir = tempDir('ratri-keys-');
  dirs.push(dir);
  return dir;
}

/** Serve with only the keys file: no key in the environment. */
async function serveWithKeys(dir: string, file: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const serve = await startServe(['--keys', file, '--store', join(dir, 'server.db'), ...extra], {
    RATRI_HOME: join(dir, 'home'),
    RATRI_API_KEY: undefined,
    RATRI_APPROVER_KEY: undefined,
    ...env,
  });
  children.push(serve.child);
  return serve;
}

/** An evaluation the proxy's own rules sent for approval: the server creates the approval. */
const held = (agentKey: string, tool = 'write_file') => ({
  agentKey,
  environment: 'test',
  serverName: 'fs',
  tool,
  arguments: { path: `/tmp/${agentKey}` },
  localDecision: { decision: 'require_approval', ruleId: 'writes', reason: 'writes need a human' },
});

const event = (id: string, agentKey: string) => ({
  id,
  type: 'agent.tool.started',
  ts: new Date().toISOString(),
  agentKey,
  environment: 'test',
  serverName: 'fs',
  sessionId: 's1',
  data: {},
});

function storedEventIds(store: string): string[] {
  const db = new Database(store, { fileMustExist: true, readonly: true });
  try {
    return (db.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

/** Polls until `probe` answers true; how long it took, or a failure after `timeoutMs`. */
async function within(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A team: proxy keys for alice and bob, an approver for every agent and one for bob only. */
async function team(dir: string) {
  const file = join(dir, 'keys.json');
  return {
    file,
    alice: await addKey(file, 'alice-laptop', 'proxy', ['alice']),
    bob: await addKey(file, 'bob-laptop', 'proxy', ['bob']),
    ops: await addKey(file, 'ops', 'approver'),
    bobsApprover: await addKey(file, 'bobs-lead', 'approver', ['bob']),
  };
}

describe('ratri serve keys add|list|remove', () => {
  it('prints the new key once, writes only its hash to a 0600 file, and names what is wrong', async () => {
    const dir = workDir();
    const file = join(dir, 'keys.json');
    const key = await addKey(file, 'alice-laptop', 'proxy', ['alice', 'alice-ci']);
    const text = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(9)); // not even its random part
    expect(JSON.parse(text).keys).toEqual([
      {
        id: 'alice-laptop',
        role: 'proxy',
        agentKeys: ['alice', 'alice-ci'],
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        createdAt: expect.any(String),
      },
    ]);
    expect(await addKey(file, 'ops', 'approver')).not.toBe(key);

    const twice = await runCli(['serve', 'keys', 'add', '--keys', file, '--role', 'approver', '--id', 'ops']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('there is a key "ops" already; pick another --id, or remove it first');
    const noAgent = await runCli(['serve', 'keys', 'add', '--keys', file, '--role', 'proxy', '--id', 'x']);
    expect(noAgent.code).toBe(2);
    expect(noAgent.stderr).toContain('--agent is required for a proxy key');

    const list = await runCli(['serve', 'keys', 'list', '--keys', file]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID +ROLE +AGENTS +ADDED\nalice-laptop +proxy +alice, alice-ci +\S+\nops +approver +every agent +\S+\n$/);
    expect(list.stdout).not.toContain(key);

    const removed = await runCli(['serve', 'keys', 'remove', '--keys', file, '--id', 'alice-laptop']);
    expect(removed).toMatchObject({ code: 0, stdout: `removed proxy key "alice-laptop" (alice, alice-ci) from ${file}\n` });
    const again = await runCli(['serve', 'keys', 'remove', '--keys', file, '--id', 'alice-laptop']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('there is no key "alice-laptop" (its keys: ops)');
    expect(JSON.parse(readFileSync(file, 'utf8')).keys.map((k: { id: string }) => k.id)).toEqual(['ops']);
  });
});

describe('ratri serve --keys: keys bound to agents', () => {
  it("a proxy key bound to alice cannot write bob's data nor read it, and the refusals name the key in the log", async () => {
    const dir = workDir();
    const keys = await team(dir);
    const serve = await serveWithKeys(dir, keys.file);

    const bobs = await api(serve.url, 'POST', '/v1/guard/evaluate', keys.bob, held('bob'));
    expect(bobs.status).toBe(200);
    const bobsApproval = bobs.body.approvalId as string;
    expect(bobsApproval).toMatch(/^apr_/);
    const alices = await api(serve.url, 'POST', '/v1/guard/evaluate', keys.alice, held('alice'));
    const alicesApproval = alices.body.approvalId as string;
    expect(alicesApproval).toMatch(/^apr_/);
    expect((await api(serve.url, 'POST', '/v1/events', keys.bob, { events: [event('ev-bob', 'bob')] })).status).toBe(202);

    // Writing for bob with alice's key: refused, and nothing is stored.
    const forBob = await api(serve.url, 'POST', '/v1/guard/evaluate', keys.alice, held('bob'));
    expect(forBob).toEqual({
      status: 403,
      body: {
        error:
          'agentKey: key "alice-laptop" is bound to agent "alice"; it cannot read or write the data of agent "bob" (that agent\'s proxy needs a key of its own: ratri serve keys add --agent bob)',
      },
    });
    const mixed = await api(serve.url, 'POST', '/v1/events', keys.alice, { events: [event('ev-a1', 'alice'), event('ev-b2', 'bob')] });
    expect(mixed.status).toBe(403);
    expect(mixed.body.error).toMatch(
      /^events\[1\]\.agentKey: key "alice-laptop" is bound to agent "alice"; it cannot read or write the data of agent "bob"/,
    );
    const tools = await api(serve.url, 'POST', '/v1/tools/define', keys.alice, {
      agentKey: 'bob',
      serverName: 'fs',
      tools: [{ name: 'read_file' }],
    });
    expect(tools.status).toBe(403);
    expect(storedEventIds(join(dir, 'server.db'))).toEqual(['ev-bob']);
    expect((await api(serve.url, 'POST', '/v1/events', keys.alice, { events: [event('ev-a1', 'alice')] })).status).toBe(202);

    // Reading: alice's key sees alice's approvals only; bob's answer 404 as if there were none.
    const listed = await api(serve.url, 'GET', '/v1/approvals', keys.alice);
    expect(listed.body.approvals.map((a: { id: string }) => a.id)).toEqual([alicesApproval]);
    expect((await api(serve.url, 'GET', '/v1/approvals?agentKey=alice&status=pending', keys.alice)).body.approvals).toHaveLength(1);
    const filtered = await api(serve.url, 'GET', '/v1/approvals?agentKey=bob', keys.alice);
    expect(filtered.status).toBe(403);
    expect(filtered.body.error).toMatch(/^agentKey: key "alice-laptop" is bound to agent "alice"/);
    for (const path of [`/v1/approvals/${bobsApproval}`, `/v1/approvals/${bobsApproval}?waitMs=3000`]) {
      const started = Date.now();
      expect(await api(serve.url, 'GET', path, keys.alice)).toEqual({
        status: 404,
        body: { error: `there is no approval ${bobsApproval} that key "alice-laptop" may see (it is bound to agent "alice")` },
      });
      expect(Date.now() - started).toBeLessThan(1_000); // no long poll on another agent's approval
    }
    expect((await api(serve.url, 'POST', `/v1/approvals/${bobsApproval}/expire`, keys.alice)).status).toBe(404);
    expect((await api(serve.url, 'GET', `/v1/approvals/${bobsApproval}`, keys.bob)).body.status).toBe('pending');

    // The unscoped approver sees both; the proxy key cannot resolve.
    expect((await api(serve.url, 'GET', '/v1/approvals', keys.ops)).body.approvals).toHaveLength(2);
    expect((await api(serve.url, 'POST', `/v1/approvals/${alicesApproval}/resolve`, keys.alice, { approve: true })).status).toBe(403);

    const log = serve.stderr();
    expect(log).toContain('refused POST /v1/guard/evaluate (key alice-laptop): 403 agentKey: key "alice-laptop"');
    expect(log).toContain('refused POST /v1/events (key alice-laptop): 403 events[1].agentKey');
    expect(log).toContain(`refused GET /v1/approvals/${bobsApproval} (key alice-laptop): 404`);
    expect(log).toContain(
      `refused POST /v1/approvals/${alicesApproval}/resolve (key alice-laptop): 403 resolving approvals needs the approver key`,
    );
    for (const key of Object.values(keys)) if (key !== keys.file) expect(log).not.toContain(key);
  });

  it("a scoped approver resolves only its agents' approvals and grants, and the approval records which key resolved it", async () => {
    const dir = workDir();
    const keys = await team(dir);
    const serve = await serveWithKeys(dir, keys.file);
    const alices = (await api(serve.url, 'POST', '/v1/guard/evaluate', keys.alice, held('alice'))).body.approvalId as string;
    const bobs = (await api(serve.url, 'POST', '/v1/guard/evaluate', keys.bob, held('bob'))).body.approvalId as string;

    expect((await api(serve.url, 'GET', '/v1/approvals', keys.bobsApprover)).body.approvals.map((a: { id: string }) => a.id)).toEqual([
      bobs,
    ]);
    const notHers = await api(serve.url, 'POST', `/v1/approvals/${alices}/resolve`, keys.bobsApprover, { approve: true });
    expect(notHers.status).toBe(404);
    expect((await api(serve.url, 'GET', `/v1/approvals/${alices}`, keys.alice)).body.status).toBe('pending');

    const resolved = await api(serve.url, 'POST', `/v1/approvals/${bobs}/resolve`, keys.bobsApprover, {
      approve: true,
      scope: 'always',
      resolvedBy: 'carol',
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.approval).toMatchObject({ status: 'approved', resolvedBy: 'carol (key bobs-lead)' });
    const grant = resolved.body.grant as { id: string; createdBy: string };
    expect(grant.createdBy).toBe('carol (key bobs-lead)');
    const byOps = await api(serve.url, 'POST', `/v1/approvals/${alices}/resolve`, keys.ops, { approve: false });
    expect(byOps.body.approval).toMatchObject({ status: 'rejected', resolvedBy: 'key ops' });

    // Grants: bob's is bob's; alice's key neither lists it nor can filter for it; revoking is the approvers'.
    expect((await api(serve.url, 'GET', '/v1/grants', keys.alice)).body.grants).toEqual([]);
    expect((await api(serve.url, 'GET', '/v1/grants', keys.bob)).body.grants.map((g: { id: string }) => g.id)).toEqual([grant.id]);
    expect((await api(serve.url, 'GET', '/v1/grants?agentKey=bob', keys.alice)).status).toBe(403);
    expect((await api(serve.url, 'POST', `/v1/grants/${grant.id}/revoke`, keys.bob)).status).toBe(403);
    expect((await api(serve.url, 'POST', `/v1/grants/${grant.id}/revoke`, keys.bobsApprover)).body.changed).toBe(true);
  });

  it('the environment keys keep reaching every agent beside the file, and one key in both is refused', async () => {
    const dir = workDir();
    const keys = await team(dir);
    const env = { RATRI_API_KEY: 'env-proxy-key-0123456789', RATRI_APPROVER_KEY: 'env-approver-key-0123456789' };
    const serve = await serveWithKeys(dir, keys.file, [], env);
    await api(serve.url, 'POST', '/v1/guard/evaluate', keys.alice, held('alice'));
    const bobs = (await api(serve.url, 'POST', '/v1/guard/evaluate', env.RATRI_API_KEY, held('bob'))).body.approvalId as string;
    expect((await api(serve.url, 'GET', '/v1/approvals', env.RATRI_API_KEY)).body.approvals).toHaveLength(2);
    const resolved = await api(serve.url, 'POST', `/v1/approvals/${bobs}/resolve`, env.RATRI_APPROVER_KEY, {
      approve: true,
      resolvedBy: 'dan',
    });
    expect(resolved.body.approval.resolvedBy).toBe('dan');
    const denied = await api(serve.url, 'GET', '/v1/approvals?agentKey=bob', keys.alice);
    expect(denied.status).toBe(403);
    expect(serve.stderr()).not.toContain('no RATRI_APPROVER_KEY');

    const clash = await runCli(['serve', '--port', '0', '--keys', keys.file, '--store', join(dir, 'other.db')], '', {
      RATRI_HOME: join(dir, 'home'),
      RATRI_API_KEY: keys.ops,
    });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`keys file ${keys.file}: key "ops" is the key in RATRI_API_KEY; give it a key of its own`);
  });

  it('a real proxy bound to its agent evaluates, registers its tools and uploads its events with its own key', async () => {
    const dir = workDir();
    const keys = await team(dir);
    const serve = await serveWithKeys(dir, keys.file);
    const proxy = startProxy(dir, serve.url, 'alice', keys.alice);
    await proxy.initialize();
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await proxy.response(1);
    proxy.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/tmp/a' } } });
    expect((await proxy.response(2)).result).toBeDefined();
    proxy.child.stdin.end();
    await proxy.exited;
    const db = new Database(join(dir, 'server.db'), { readonly: true });
    try {
      const agents = db.prepare('SELECT DISTINCT agent_key AS a FROM events').all() as Array<{ a: string }>;
      expect(agents).toEqual([{ a: 'alice' }]);
      expect((db.prepare("SELECT count(*) AS n FROM tools WHERE agent_key = 'alice'").get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(serve.stderr()).not.toContain('refused');
  });

  it('a proxy whose key the API refuses (bound to another agent, or removed) gets its calls blocked, under fail_open too', async () => {
    // guardFailureMode is fail_open by default: an API that is down lets calls through. One that is up and
    // refuses the key must not: that would leave a rotated-out or mis-bound proxy unguarded (docs/policy.md).
    const dir = workDir();
    const keys = await team(dir);
    const serve = await serveWithKeys(dir, keys.file);
    const misbound = startProxy(dir, serve.url, 'bob', keys.alice, 'misbound');
    await misbound.initialize();
    misbound.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/tmp/a' } } });
    const refused = (await misbound.response(1)).error as { code: number; message: string };
    expect(refused.code).toBe(-32001);
    expect(refused.message).toContain('answered 403 to POST /v1/');
    expect(refused.message).toContain('fix: give RATRI_E2E_PROXY_KEY a key the control plane accepts for agent "bob"');
    const unknown = startProxy(dir, serve.url, 'alice', 'not-a-key-of-the-file', 'unknown');
    await unknown.initialize();
    unknown.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/tmp/a' } } });
    expect((await unknown.response(2)).error).toMatchObject({ code: -32001 });
  });
});

describe('ratri serve --keys: starting', () => {
  it('refuses a keys file that is missing, invalid or writable by others, naming the field and the fix', async () => {
    const dir = workDir();
    const file = join(dir, 'keys.json');
    const start = (): ReturnType<typeof runCli> =>
      runCli(['serve', '--port', '0', '--keys', file, '--store', join(dir, 's.db')], '', { RATRI_HOME: join(dir, 'home') });

    const missing = await start();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`keys file ${file}: cannot be read (ENOENT); create it with "ratri serve keys add --keys FILE …"`);

    writeFileSync(
      file,
      JSON.stringify({
        keys: [
          { id: 'a b', role: 'proxy', sha256: 'ABC' },
          { id: 'x', role: 'admin', sha256: 'a'.repeat(64) },
        ],
      }),
      {
        mode: 0o600,
      },
    );
    const invalid = await start();
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('keys[0].id: must be 1 to 64 letters, digits');
    expect(invalid.stderr).toContain('keys[0].sha256: must be 64 lowercase hex digits, the SHA-256 of the key');
    expect(invalid.stderr).toContain('keys[1].role: must be one of "proxy", "approver"');

    writeFileSync(file, JSON.stringify({ keys: [{ id: 'a', role: 'proxy', sha256: 'a'.repeat(64) }] }));
    chmodSync(file, 0o600);
    const unbound = await start();
    expect(unbound.stderr).toContain('keys[0].agentKeys: is required for a proxy key');

    writeFileSync(file, JSON.stringify({ keys: [] }));
    chmodSync(file, 0o666);
    const open = await start();
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(
      `keys file ${file}: other users may write it (mode 666), so they could add a key; fix: chmod 600 ${file}`,
    );
  });

  it('an empty keys file refuses every request (no key is not "anyone"), also on a non-loopback address', async () => {
    const dir = workDir();
    const file = join(dir, 'keys.json');
    writeFileSync(file, '{ "keys": [] }\n', { mode: 0o600 });
    const serve = await serveWithKeys(dir, file, ['--host', '0.0.0.0']);
    expect(serve.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    const url = serve.url.replace('0.0.0.0', '127.0.0.1');
    expect((await api(url, 'GET', '/v1/approvals', null)).status).toBe(401);
    expect((await api(url, 'GET', '/healthz', null)).status).toBe(200);
    expect(serve.stderr()).toContain(`the keys file ${file} has no keys yet: requests are refused until "ratri serve keys add" adds one`);
  });

  it('reads "keys" from the serve config, relative to the config file', async () => {
    const dir = workDir();
    const key = await addKey(join(dir, 'team-keys.json'), 'alice-laptop', 'proxy', ['alice']);
    const config = writeConfig(dir, { agentKey: 'control-plane', keys: 'team-keys.json' }, 'serve.json');
    const serve = await startServe(['--config', config, '--store', join(dir, 'server.db')], {
      RATRI_HOME: join(dir, 'home'),
      RATRI_API_KEY: undefined,
      RATRI_APPROVER_KEY: undefined,
    });
    children.push(serve.child);
    expect((await api(serve.url, 'GET', '/v1/approvals', key)).status).toBe(200);
    expect((await api(serve.url, 'GET', '/v1/approvals?agentKey=bob', key)).status).toBe(403);
  });
});

describe('ratri serve --keys: rotation without a restart', () => {
  it('a key added with the CLI works within a second, a removed one is refused within a second, and a proxy moves to the new key', async () => {
    const dir = workDir();
    const file = join(dir, 'keys.json');
    const k1 = await addKey(file, 'alice-2026-01', 'proxy', ['alice']);
    const serve = await serveWithKeys(dir, file);
    const status = async (key: string): Promise<number> => (await api(serve.url, 'GET', '/v1/approvals', key)).status;

    const before = startProxy(dir, serve.url, 'alice', k1, 'before');
    await before.initialize();
    expect(await status(k1)).toBe(200);

    const k2 = await addKey(file, 'alice-2026-02', 'proxy', ['alice']);
    const added = await within('the new key being accepted', 3_000, async () => (await status(k2)) === 200);
    expect(added).toBeLessThan(1_500);

    // The proxies move to the new key (a proxy reads api.keyEnv when it starts): a new one with k2.
    const after = startProxy(dir, serve.url, 'alice', k2, 'after');
    await after.initialize();
    expect((await runCli(['serve', 'keys', 'remove', '--keys', file, '--id', 'alice-2026-01'])).code).toBe(0);
    const removed = await within('the old key being refused', 3_000, async () => (await status(k1)) === 401);
    expect(removed).toBeLessThan(1_500);
    after.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'write_file', arguments: { path: '/tmp/x' } } });
    // A local rule holds write_file: the server (through the new key) made the approval.
    const pending = await within('the new proxy holding its call on the server', 5_000, async () => {
      const list = await api(serve.url, 'GET', '/v1/approvals?status=pending', k2);
      return list.body.approvals.length === 1;
    });
    expect(pending).toBeLessThan(5_000);
    const log = serve.stderr();
    expect(log).toContain(`keys file ${file} re-read: 2 keys (alice-2026-01, alice-2026-02)`);
    expect(log).toContain(`keys file ${file} re-read: 1 key (alice-2026-02)`);
    expect(log).toContain('refused GET /v1/approvals (key none or unknown): 401 the API key is not valid');
  });

  it('a keys file that becomes invalid keeps the keys read before and says why once; fixed, it is read again', async () => {
    const dir = workDir();
    const file = join(dir, 'keys.json');
    const k1 = await addKey(file, 'alice-laptop', 'proxy', ['alice']);
    const good = readFileSync(file, 'utf8');
    const serve = await serveWithKeys(dir, file);

    writeFileSync(file, '{ "keys": [ { "id": "alice-laptop", "role": "proxy" ');
    await within('the problem being logged', 3_000, async () => serve.stderr().includes('is not valid JSON'));
    expect(serve.stderr()).toContain(`keys file ${file}: is not valid JSON (`);
    expect(serve.stderr()).toContain('; still using the keys read before');
    expect((await api(serve.url, 'GET', '/v1/approvals', k1)).status).toBe(200);

    // Removing the file does not open the API either.
    rmSync(file);
    await within('the missing file being logged', 3_000, async () => serve.stderr().includes('cannot be read (ENOENT)'));
    expect((await api(serve.url, 'GET', '/v1/approvals', k1)).status).toBe(200);
    expect((await api(serve.url, 'GET', '/v1/approvals', null)).status).toBe(401);

    const k2 = await addKey(file, 'alice-new', 'proxy', ['alice']); // a new file, without k1
    expect(good).not.toContain(k2);
    await within('the fixed file being read', 3_000, async () => (await api(serve.url, 'GET', '/v1/approvals', k2)).status === 200);
    expect((await api(serve.url, 'GET', '/v1/approvals', k1)).status).toBe(401);
    expect(serve.stderr().match(/is not valid JSON/g)).toHaveLength(1);
  });
});

describe('ratri serve --keys on PostgreSQL', () => {
  it("a proxy key bound to alice lists only alice's approvals and grants from the database", async () => {
    const postgres = await startPostgres();
    try {
      const dir = workDir();
      const keys = await team(dir);
      const database = await postgres.newDatabase('ratri_keys_e2e');
      const serve = await startServe(['--keys', keys.file, '--database', database], {
        RATRI_HOME: join(dir, 'home'),
        RATRI_API_KEY: undefined,
        RATRI_APPROVER_KEY: undefined,
      });
      children.push(serve.child);
      const alices = (await api(serve.url, 'POST', '/v1/guard/evaluate', keys.alice, held('alice'))).body.approvalId as string;
      const bobs = (await api(serve.url, 'POST', '/v1/guard/evaluate', keys.bob, held('bob'))).body.approvalId as string;
      await api(serve.url, 'POST', `/v1/approvals/${bobs}/resolve`, keys.ops, { approve: true, scope: 'always' });
      expect((await api(serve.url, 'GET', '/v1/approvals', keys.alice)).body.approvals.map((a: { id: string }) => a.id)).toEqual([alices]);
      expect(
        (await api(serve.url, 'GET', '/v1/approvals?status=approved', keys.bob)).body.approvals.map((a: { id: string }) => a.id),
      ).toEqual([bobs]);
      expect((await api(serve.url, 'GET', '/v1/grants', keys.alice)).body.grants).toEqual([]);
      expect((await api(serve.url, 'GET', '/v1/grants?all=true', keys.bob)).body.grants).toHaveLength(1);
      expect((await api(serve.url, 'GET', `/v1/approvals/${bobs}?waitMs=2000`, keys.alice)).status).toBe(404);
      expect((await api(serve.url, 'GET', '/v1/approvals', keys.ops)).body.approvals).toHaveLength(2);
    } finally {
      await postgres.stop();
    }
  }, 120_000);
});

function startProxy(dir: string, url: string, agentKey: string, key: string, name = 'proxy'): ProxyProcess {
  const config = writeConfig(
    dir,
    {
      agentKey,
      serverName: 'fs',
      mode: 'enforce',
      environment: 'test',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      api: { url, keyEnv: 'RATRI_E2E_PROXY_KEY' },
      store: `${name}.db`,
      approvalTimeoutMs: 20_000,
      guardrails: { rules: [{ id: 'local-writes', tool: 'write_file', decision: 'require_approval', reason: 'writes need a human' }] },
    },
    `${name}.json`,
  );
  const proxy = new ProxyProcess(['--config', config], { RATRI_HOME: join(dir, 'home'), RATRI_E2E_PROXY_KEY: key });
  children.push(proxy.child);
  return proxy;
}
