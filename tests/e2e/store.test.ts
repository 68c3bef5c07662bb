/**
 * The embedded store shared by real processes: two proxies writing at once lose no event, the
 * `ratri events` and `ratri tools` commands read what they wrote, and a tool that changes its
 * definition is blocked until trusted again.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../lib/control/event-store.js';
import { isProcessAlive } from '../../lib/node/process-alive.js';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-store-e2e-');

/** A process's command line, or '' when it is gone. */
function cmdlineOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function proxy(d: string, name: string, fields: Record<string, unknown>): ProxyProcess {
  const config = writeConfig(
    d,
    {
      agentKey: 'agent-store',
      serverName: name,
      store: join(d, 'ratri.db'),
      telemetry: { jsonl: join(d, `${name}.jsonl`) },
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      ...fields,
    },
    `${name}.json`,
  );
  const p = new ProxyProcess(['--config', config]);
  return track(p);
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('two proxies on one store', () => {
  it('stores every event of both, each exactly once', async () => {
    const d = dir();
    const CALLS = 300;
    const both = ['alpha', 'beta'].map((name) => proxy(d, name, { mode: 'monitor' }));
    await Promise.all(
      both.map(async (p) => {
        p.send({ jsonrpc: '2.0', id: 0, method: 'tools/list' });
        for (let i = 1; i <= CALLS; i++) p.send(call(i, 'read_file', { path: `/f/${i}` }));
        await p.response(CALLS);
        p.child.stdin.end();
        expect((await p.exited).code).toBe(0);
      }),
    );
    const jsonlIds = ['alpha', 'beta'].flatMap((n) =>
      readFileSync(join(d, `${n}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    );
    // Read as `ratri events` reads it: the events table and the calls table, one row per call (docs/events.md#one-record-per-call).
    const db = new Database(join(d, 'ratri.db'), { readonly: true });
    const all = new EventStore(db).query({ limit: 100_000 });
    const calls = db.prepare('SELECT server_name, count(*) AS n FROM calls GROUP BY server_name ORDER BY server_name').all();
    db.close();
    const stored = all.map((e) => e.id);
    const perServer = ['alpha', 'beta'].map((server_name) => ({
      server_name,
      n: all.filter((e) => e.serverName === server_name && e.type === 'agent.tool.completed').length,
    }));
    expect(calls).toEqual([
      { server_name: 'alpha', n: CALLS },
      { server_name: 'beta', n: CALLS },
    ]);
    expect(new Set(stored).size).toBe(stored.length);
    expect(new Set(stored)).toEqual(new Set(jsonlIds));
    expect(stored.length).toBeGreaterThanOrEqual(2 * (3 * CALLS + 3)); // started, evaluated, completed per call; session and tools events
    expect(perServer).toEqual([
      { server_name: 'alpha', n: CALLS },
      { server_name: 'beta', n: CALLS },
    ]);
  });
});

describe('ratri events', () => {
  it('shows what happened, filtered by decision, tool, type and time, as a table or JSON lines', async () => {
    const d = dir();
    const p = proxy(d, 'files', {
      mode: 'enforce',
      redactKeys: ['path'],
      guardrails: { rules: [{ id: 'no-delete', tool: 'delete_*', decision: 'block', reason: 'deleting is off' }] },
    });
    p.send(call(1, 'read_file', { path: '/secret/plan.txt' }));
    p.send(call(2, 'delete_file', { path: '/etc/passwd' }));
    await p.response(1);
    await p.response(2);
    p.child.stdin.end();
    await p.exited;
    const store = ['--store', join(d, 'ratri.db')];

    const blocked = await runCli(['events', ...store, '--decision', 'block', '--json']);
    expect(blocked.code, blocked.stderr).toBe(0);
    const lines = blocked.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'agent.guardrail.evaluated',
        data: expect.objectContaining({ tool: 'files.delete_file', ruleId: 'no-delete' }),
      }),
    ]);

    const table = await runCli(['events', ...store, '--tool', 'read_file', '--since', '10m']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+SERVER\s+TYPE\s+TOOL\s+DECISION\s+DETAIL$/);
    expect(table.stdout).toMatch(/agent\.tool\.completed\s+files\.read_file/);
    expect(table.stdout).not.toContain('delete_file');
    expect(table.stdout).not.toContain('/secret/plan.txt'); // redacted before it was stored
    expect(table.stdout).not.toContain('\u001b['); // no colour when stdout is not a terminal

    const typed = await runCli(['events', ...store, '--type', 'mcp.session.*', '--json']);
    expect(
      typed.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type),
    ).toEqual(['mcp.session.started', 'mcp.session.ended']);

    const future = await runCli(['events', ...store, '--since', '2999-01-01']);
    expect(future.code).toBe(0);
    expect(future.stderr).toContain('no events in');

    const bad = await runCli(['events', ...store, '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since "yesterday-ish": expected a duration such as 30s/);
  });
});

describe('tool definitions that change after they were trusted', () => {
  it('raises mcp.tool.definition_changed, blocks calls to the tool, and lets them through after "ratri tools trust"', async () => {
    const d = dir();
    const fields = { mode: 'enforce', guardrails: { rules: [{ template: 'block_changed_tool_definitions' }] } };
    const p = proxy(d, 'files', fields);
    p.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }); // registers (and trusts) the tools
    await p.response(1);
    p.send(call(2, 'read_file', { path: '/a' }));
    expect((await p.response(2)).result).toBeDefined();
    p.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' }); // the fixture now describes read_file differently
    await p.response(3);
    // Registration is recorded as the answer goes by; give the proxy a moment before the next call.
    await new Promise((r) => setTimeout(r, 200));
    p.send(call(4, 'read_file', { path: '/a' }));
    expect((await p.response(4)).error).toMatchObject({
      code: -32001,
      data: { ruleId: 'block_changed_tool_definitions', tool: 'files.read_file' },
    });
    p.send(call(5, 'delete_file', { path: '/a' })); // unchanged tools still work
    expect((await p.response(5)).result).toBeDefined();

    const store = ['--store', join(d, 'ratri.db')];
    const list = await runCli(['tools', 'list', ...store]);
    expect(list.stdout).toMatch(/files\.read_file\s+CHANGED/);
    expect(list.stdout).toMatch(/files\.delete_file\s+trusted/);
    const changed = await runCli(['events', ...store, '--type', 'mcp.tool.definition_changed', '--json']);
    expect(changed.stdout.trim().split('\n')).toHaveLength(1);

    const trust = await runCli(['tools', 'trust', 'files.read_file', ...store]);
    expect(trust.code, trust.stderr).toBe(0);
    expect(trust.stdout).toContain('trusted the current definition of files.read_file');
    p.send(call(6, 'read_file', { path: '/a' }));
    expect((await p.response(6)).result).toBeDefined();
  });
});

describe('a store that cannot be used', () => {
  it('exits 2 naming the store and why, and stops the upstream it had spawned first', async () => {
    const d = dir();
    const pidFile = join(d, 'upstream.pid');
    // An upstream that would run until killed, and says who it is (the store opens after the spawn: docs/performance.md#start-up).
    const upstreamCode = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    const config = writeConfig(d, {
      agentKey: 'a',
      store: '/proc/self/no-such-dir/ratri.db',
      upstream: { command: process.execPath, args: ['-e', upstreamCode] },
    });
    const r = await runCli(['mcp', 'proxy', '--config', config], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/store: cannot open the store \/proc\/self\/no-such-dir\/ratri\.db/);
    // Whether or not it got as far as writing its pid, no process running that code may be left.
    const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && cmdlineOf(p).includes(pidFile));
    expect(left).toEqual([]);
    if (existsSync(pidFile)) expect(isProcessAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});
