/**
 * Reading a team's events and tool registry through `ratri serve` (docs/api.md#get-v1events,
 * #get-v1tools): a real `ratri serve --keys` (SQLite, and once PostgreSQL), real proxies with `api`
 * calling the fixture upstream, and the built `ratri events` / `ratri tools list` with a config that
 * has only `agentKey` and `api`. A key bound to bob reads none of alice's records; a bad parameter
 * is a 400 naming it; a listing larger than one page is read page by page.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, ProxyProcess, runCli, toolCall, writeConfig } from '../helpers/cli.js';
import { startPostgres } from '../helpers/postgres.js';
import { addServeKey as addKey, apiRequest as api, killedAfterEach, type ServeProcess, startServe } from '../helpers/serve.js';

const { dir: workDir } = cleanUpAfterEach('ratri-serve-events-');
const children = killedAfterEach();

interface Team {
  dir: string;
  serve: ServeProcess;
  keys: { alice: string; bob: string; ops: string };
  /** The environment every command of the test runs with: the keys in variables of their own, nothing else. */
  env: Record<string, string>;
  /** A config with only `agentKey` and `api`, sending the key in `keyEnv`. */
  readerConfig(name: string, keyEnv: string): string;
}

/** A keys file (alice's and bob's proxy keys, an unscoped approver key) and `ratri serve` on it. */
async function team(storage: (dir: string) => string[] = (dir) => ['--store', join(dir, 'server.db')]): Promise<Team> {
  const dir = workDir();
  const file = join(dir, 'keys.json');
  const keys = {
    alice: await addKey(file, 'alice-laptop', 'proxy', ['alice']),
    bob: await addKey(file, 'bob-laptop', 'proxy', ['bob']),
    ops: await addKey(file, 'ops', 'approver'),
  };
  const env = { RATRI_HOME: join(dir, 'home'), E2E_ALICE_KEY: keys.alice, E2E_BOB_KEY: keys.bob, E2E_OPS_KEY: keys.ops, NO_COLOR: '1' };
  const serve = await startServe(['--keys', file, ...storage(dir)], { ...env, RATRI_API_KEY: undefined, RATRI_APPROVER_KEY: undefined });
  children.push(serve.child);
  const readerConfig = (name: string, keyEnv: string): string =>
    writeConfig(dir, { agentKey: name, api: { url: serve.url, keyEnv } }, `${name}.mcp.json`);
  return { dir, serve, keys, env, readerConfig };
}

/** A proxy of `agentKey` on the team's API: lists tools, reads a file, has a delete blocked by its own rule, then exits. */
async function proxyRun(t: Team, agentKey: string, keyEnv: string): Promise<void> {
  const config = writeConfig(
    t.dir,
    {
      agentKey,
      serverName: 'fs',
      mode: 'enforce',
      environment: 'test',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      api: { url: t.serve.url, keyEnv },
      store: `${agentKey}-proxy.db`,
      guardrails: { rules: [{ id: 'no-deletes', tool: 'delete_file', decision: 'block', reason: 'deletes are not allowed' }] },
    },
    `${agentKey}-proxy.json`,
  );
  const proxy = new ProxyProcess(['--config', config], t.env);
  children.push(proxy.child);
  await proxy.initialize();
  proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  await proxy.response(1);
  proxy.send(toolCall(2, 'read_file', { path: `/home/${agentKey}/notes.txt` }));
  expect(await proxy.response(2)).toHaveProperty('result');
  proxy.send(toolCall(3, 'delete_file', { path: `/home/${agentKey}/notes.txt` }));
  expect(await proxy.response(3)).toMatchObject({ error: { code: -32001 } });
  proxy.child.stdin.end(); // the host goes away: the proxy uploads what it recorded and exits
  expect((await proxy.exited).code, proxy.stderr).toBe(0);
}

/** `ratri events ARGS --json`: the events it printed. */
async function eventsOf(t: Team, args: string[]): Promise<Array<Record<string, any> & { agentKey: string }>> {
  const r = await runCli(['events', '--json', ...args], '', t.env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** An event as a proxy uploads it (`POST /v1/events`): a proxy.warning with `data`. */
const warning = (id: string, agentKey: string, ts: string, data: Record<string, unknown>) => ({
  id,
  type: 'proxy.warning',
  ts,
  agentKey,
  environment: 'test',
  serverName: 'fs',
  sessionId: `s-${agentKey}`,
  data: { code: 'e2e', ...data },
});

const agentsOf = (events: Array<{ agentKey: string }>): string[] => [...new Set(events.map((e) => e.agentKey))].sort();

describe('ratri events and ratri tools list through ratri serve (SQLite)', () => {
  it("lists the team's events and tools as the server's store holds them, scoped by the key", async () => {
    const t = await team();
    const store = join(t.dir, 'server.db');
    await proxyRun(t, 'alice', 'E2E_ALICE_KEY');
    await proxyRun(t, 'bob', 'E2E_BOB_KEY');
    const approver = t.readerConfig('ops', 'E2E_OPS_KEY');
    const bob = t.readerConfig('bob-reader', 'E2E_BOB_KEY');

    const all = await eventsOf(t, ['--config', approver, '--limit', '1000']);
    expect(agentsOf(all)).toEqual(['alice', 'bob']);
    const alices = all.filter((e) => e.agentKey === 'alice');
    expect(alices.find((e) => e.type === 'agent.tool.started')?.data).toMatchObject({
      tool: 'fs.read_file',
      arguments: { path: '/home/alice/notes.txt' },
    });
    expect(alices.find((e) => e.type === 'agent.guardrail.evaluated' && e.data.decision === 'block')?.data).toMatchObject({
      tool: 'fs.delete_file',
      ruleId: 'no-deletes',
    });
    // The same events, in the same order, with the same seq, as the server's own store gives them.
    expect(all).toEqual(await eventsOf(t, ['--store', store, '--limit', '1000']));
    const table = await runCli(['events', '--config', approver, '--since', '1h'], '', t.env);
    const local = await runCli(['events', '--store', store, '--since', '1h'], '', t.env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(local.stdout);
    expect(table.stdout).toMatch(/^TIME +SERVER +TYPE +TOOL +DECISION +DETAIL\n/);

    // Filters are the server's: decision, tool glob, type glob, agent.
    const blocks = await eventsOf(t, ['--config', approver, '--decision', 'block']);
    expect(blocks.map((e) => [e.agentKey, e.data.tool])).toEqual([
      ['alice', 'fs.delete_file'],
      ['bob', 'fs.delete_file'],
    ]);
    expect(await eventsOf(t, ['--config', approver, '--tool', 'read_*', '--type', 'agent.tool.*', '--agent', 'bob'])).toEqual(
      all.filter((e) => e.agentKey === 'bob' && e.data.tool === 'fs.read_file' && e.type.startsWith('agent.tool.')),
    );
    expect(await eventsOf(t, ['--config', approver, '--until', '2000-01-01'])).toEqual([]);

    // Bob's key reads bob's events only, and naming alice is refused.
    const bobs = await eventsOf(t, ['--config', bob, '--limit', '1000']);
    expect(bobs.length).toBeGreaterThan(0);
    expect(agentsOf(bobs)).toEqual(['bob']);
    expect(bobs).toEqual(all.filter((e) => e.agentKey === 'bob'));
    const refused = await runCli(['events', '--config', bob, '--agent', 'alice'], '', t.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('answered 403 to GET /v1/events: agentKey: key "bob-laptop" is bound to agent "bob"');
    expect((await api(t.serve.url, 'GET', '/v1/events?agentKey=alice', t.keys.bob)).status).toBe(403);
    // With --approver-key-env the same config sends the approver key, which reads every agent.
    expect(await eventsOf(t, ['--config', bob, '--approver-key-env', 'E2E_OPS_KEY', '--limit', '1000'])).toEqual(all);
    const unset = await runCli(['events', '--config', bob, '--approver-key-env', 'E2E_NOT_SET'], '', t.env);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('--approver-key-env: the environment variable E2E_NOT_SET is not set');

    // The tool registry: every agent's for the approver, as the store has it; bob's only for bob.
    const tools = await runCli(['tools', 'list', '--config', approver, '--json'], '', t.env);
    expect(tools.code, tools.stderr).toBe(0);
    const registry = JSON.parse(tools.stdout);
    expect(registry.map((x: { agentKey: string; name: string }) => `${x.agentKey}:${x.name}`)).toEqual([
      'alice:delete_file',
      'alice:read_file',
      'bob:delete_file',
      'bob:read_file',
    ]);
    expect(registry).toEqual(JSON.parse((await runCli(['tools', 'list', '--store', store, '--json'], '', t.env)).stdout));
    const bobsTools = JSON.parse((await runCli(['tools', 'list', '--config', bob, '--json'], '', t.env)).stdout);
    expect(bobsTools.map((x: { agentKey: string }) => x.agentKey)).toEqual(['bob', 'bob']);
    // The same table (LAST SEEN is relative to now: the two runs may be a second apart, and "9s ago"
    // and "10s ago" are padded to the same width, so the padding after the number is kept as wide).
    const seen = (text: string): string => text.replace(/\d+s ago */g, (m) => 'Ns ago'.padEnd(m.length));
    const table2 = await runCli(['tools', 'list', '--config', approver], '', t.env);
    expect(seen(table2.stdout)).toBe(seen((await runCli(['tools', 'list', '--store', store], '', t.env)).stdout));
    expect(table2.stdout).toMatch(/^AGENT +TOOL +STATUS +LAST SEEN +DESCRIPTION\nalice +fs\.delete_file +trusted /);
    expect((await api(t.serve.url, 'GET', '/v1/tools?agentKey=alice', t.keys.bob)).status).toBe(403);
    expect((await api(t.serve.url, 'GET', '/v1/tools?agentKey=alice', t.keys.ops)).body.tools).toHaveLength(2);
    const trust = await runCli(['tools', 'trust', 'fs.read_file', '--config', approver], '', t.env);
    expect(trust.code).toBe(1);
    expect(trust.stderr).toContain('"ratri tools trust" reads a local store');
  }, 90_000);

  it('answers a bad parameter with 400 naming it and the fix', async () => {
    const t = await team();
    const bad: Array<[string, string]> = [
      ['limit=0', 'limit: must be a whole number from 1 to 1000, not "0"; page through more with cursor'],
      ['limit=5000', 'limit: must be a whole number from 1 to 1000, not "5000"'],
      ['limit=ten', 'limit: must be a whole number from 1 to 1000, not "ten"'],
      ['since=yesterday', 'since "yesterday": expected a duration such as 30s, 10m, 2h, 7d, or a date'],
      ['until=soon', 'until "soon": expected a duration'],
      ['decision=deny', 'decision: must be one of allow, warn, redact, require_approval, block, not "deny"'],
      ['cursor=abc', 'cursor: must be the nextCursor of an earlier answer (a whole number), not "abc"'],
      ['after=-1', 'after: must be the seq of an event (a whole number), not "-1"'],
      ['agent=alice', 'agent: not a parameter of GET /v1/events; use tool, type, session, server, decision, since, until, agentKey'],
      ['tool=a&tool=b', 'tool: given 2 times; give it once'],
      ['constructor=x', 'constructor: not a parameter of GET /v1/events'],
      ['type=', 'type: must be 1 to 512 characters, or left out'],
    ];
    for (const [query, message] of bad) {
      const answer = await api(t.serve.url, 'GET', `/v1/events?${query}`, t.keys.ops);
      expect([query, answer.status]).toEqual([query, 400]);
      expect(answer.body.error).toContain(message);
    }
    const tools = await api(t.serve.url, 'GET', '/v1/tools?agent=alice', t.keys.ops);
    expect(tools).toEqual({ status: 400, body: { error: 'agent: not a parameter of GET /v1/tools; use agentKey' } });
    const cli = await runCli(['events', '--config', t.readerConfig('ops', 'E2E_OPS_KEY'), '--until', 'soon'], '', t.env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--until "soon": expected a duration');
  }, 60_000);

  it('pages: each page is bounded, the cursors walk back to the oldest, and the CLI reads past one page', async () => {
    const t = await team();
    const ts = new Date().toISOString();
    const make = (agentKey: string, n: number) => warning(`evt_${agentKey}_${String(n).padStart(5, '0')}`, agentKey, ts, { n });
    // 1500 of alice's and 300 of bob's, interleaved, in batches as a proxy uploads them.
    for (let batch = 0; batch < 3; batch++) {
      const alices = Array.from({ length: 500 }, (_, i) => make('alice', batch * 500 + i));
      const bobs = Array.from({ length: 100 }, (_, i) => make('bob', batch * 100 + i));
      expect((await api(t.serve.url, 'POST', '/v1/events', t.keys.alice, { events: alices })).status).toBe(202);
      expect((await api(t.serve.url, 'POST', '/v1/events', t.keys.bob, { events: bobs })).status).toBe(202);
    }
    const first = await api(t.serve.url, 'GET', '/v1/events', t.keys.ops);
    expect(first.body.events).toHaveLength(100); // the default page
    const walked: Array<{ seq: number; id: string }> = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const answer = await api(t.serve.url, 'GET', `/v1/events?limit=700&agentKey=alice${cursor ? `&cursor=${cursor}` : ''}`, t.keys.ops);
      expect(answer.status).toBe(200);
      expect(answer.body.events.length).toBeLessThanOrEqual(700);
      walked.unshift(...answer.body.events);
      cursor = answer.body.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(walked.map((e) => e.id)).toEqual(Array.from({ length: 1500 }, (_, n) => make('alice', n).id));
    const seqs = walked.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // `--limit 1200` is two pages of the API (at most 1000 each): the newest 1200, in order.
    const cli = await eventsOf(t, ['--config', t.readerConfig('ops', 'E2E_OPS_KEY'), '--agent', 'alice', '--limit', '1200']);
    expect(cli.map((e) => e.id)).toEqual(walked.slice(300).map((e) => e.id));
    // Bob's key pages through bob's alone.
    const bobs = await eventsOf(t, ['--config', t.readerConfig('bob-reader', 'E2E_BOB_KEY'), '--limit', '1000']);
    expect(bobs.map((e) => e.id)).toEqual(Array.from({ length: 300 }, (_, n) => make('bob', n).id));
    // `after`: only what came after an event (how --follow reads on).
    const after = await api(t.serve.url, 'GET', `/v1/events?agentKey=bob&after=${bobs.at(-2)!.seq}`, t.keys.bob);
    expect(after.body).toEqual({ events: [bobs.at(-1)], nextCursor: null });
  }, 90_000);
});

/** `ratri events ARGS --follow --json` running: the lines it printed so far, and a stop by SIGINT that gives its exit code. */
function follow(t: Team, args: string[]) {
  const child = spawn(process.execPath, [cliPath, 'events', '--follow', '--json', ...args], { env: { ...process.env, ...t.env } });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const lines = (): Array<{ id: string }> =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return { lines, stop: () => (child.kill('SIGINT'), exited) };
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ratri events --follow through ratri serve', () => {
  it('prints each new event the key may read as it is stored, and stops on Ctrl-C', async () => {
    const t = await team();
    const event = (id: string, agentKey: string) => warning(id, agentKey, new Date().toISOString(), {});
    expect((await api(t.serve.url, 'POST', '/v1/events', t.keys.alice, { events: [event('evt_old', 'alice')] })).status).toBe(202);
    const ops = follow(t, ['--config', t.readerConfig('ops', 'E2E_OPS_KEY')]);
    const bob = follow(t, ['--config', t.readerConfig('bob-reader', 'E2E_BOB_KEY')]);
    const local = follow(t, ['--store', join(t.dir, 'server.db')]);
    await until('the first listing', () => ops.lines().length === 1 && local.lines().length === 1);
    await new Promise((r) => setTimeout(r, 700)); // bob's follower has read its (empty) first page
    await api(t.serve.url, 'POST', '/v1/events', t.keys.alice, { events: [event('evt_alice', 'alice')] });
    await api(t.serve.url, 'POST', '/v1/events', t.keys.bob, { events: [event('evt_bob', 'bob')] });
    await until('the new events', () => ops.lines().length === 3 && bob.lines().length === 1 && local.lines().length === 3);
    expect(ops.lines().map((e) => e.id)).toEqual(['evt_old', 'evt_alice', 'evt_bob']);
    expect(local.lines()).toEqual(ops.lines());
    expect(bob.lines().map((e) => e.id)).toEqual(['evt_bob']);
    expect(await ops.stop()).toBe(0);
    expect(await bob.stop()).toBe(0);
    expect(await local.stop()).toBe(0);
  }, 60_000);
});

describe('ratri events and ratri tools list through ratri serve (PostgreSQL)', () => {
  it("lists the team's events and tools from the database, scoped by the key", async () => {
    const postgres = await startPostgres();
    try {
      const database = await postgres.newDatabase('ratri_events_e2e');
      const t = await team(() => ['--database', database]);
      await proxyRun(t, 'alice', 'E2E_ALICE_KEY');
      await proxyRun(t, 'bob', 'E2E_BOB_KEY');
      const approver = t.readerConfig('ops', 'E2E_OPS_KEY');
      const all = await eventsOf(t, ['--config', approver, '--limit', '1000']);
      expect(agentsOf(all)).toEqual(['alice', 'bob']);
      const seqs = all.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(typeof seqs[0]).toBe('number');
      const blocks = await eventsOf(t, ['--config', approver, '--decision', 'block', '--tool', 'delete_*']);
      expect(blocks.map((e) => [e.agentKey, e.data.tool, e.data.ruleId])).toEqual([
        ['alice', 'fs.delete_file', 'no-deletes'],
        ['bob', 'fs.delete_file', 'no-deletes'],
      ]);
      // The glob's `_` is a literal underscore (LIKE's wildcard escaped), `?` one character.
      expect(await eventsOf(t, ['--config', approver, '--tool', 'fs.read?file', '--type', 'agent.tool.started'])).toHaveLength(2);
      expect(await eventsOf(t, ['--config', approver, '--tool', 'fs.read%', '--type', 'agent.tool.started'])).toHaveLength(0);
      const bobs = await eventsOf(t, ['--config', t.readerConfig('bob-reader', 'E2E_BOB_KEY'), '--limit', '1000']);
      expect(bobs).toEqual(all.filter((e) => e.agentKey === 'bob'));
      expect((await api(t.serve.url, 'GET', '/v1/events?agentKey=alice', t.keys.bob)).status).toBe(403);
      const page = await api(t.serve.url, 'GET', '/v1/events?limit=2', t.keys.ops);
      expect(page.body).toEqual({ events: all.slice(-2), nextCursor: String(all.at(-2)!.seq) });

      const tools = await runCli(['tools', 'list', '--config', approver, '--json'], '', t.env);
      expect(tools.code, tools.stderr).toBe(0);
      expect(JSON.parse(tools.stdout).map((x: { agentKey: string; name: string }) => `${x.agentKey}:${x.name}`)).toEqual([
        'alice:delete_file',
        'alice:read_file',
        'bob:delete_file',
        'bob:read_file',
      ]);
      const bobsTools = await runCli(['tools', 'list', '--config', t.readerConfig('bob-reader', 'E2E_BOB_KEY'), '--json'], '', t.env);
      expect(JSON.parse(bobsTools.stdout).map((x: { agentKey: string }) => x.agentKey)).toEqual(['bob', 'bob']);
    } finally {
      await postgres.stop();
    }
  }, 150_000);
});
