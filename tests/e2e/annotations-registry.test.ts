/**
 * Annotation rules on a tool this session has not listed: the store's tool registry (filled by an
 * earlier session's tools/list) supplies its annotations; a tool unknown there too is not assumed
 * safe. Two real proxy processes on one SQLite store, in front of the tools fixture server.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-annotations-');

function proxyFor(folder: string): ProxyProcess {
  const config = writeConfig(folder, {
    agentKey: 'agent-annotations',
    serverName: 'files',
    mode: 'enforce',
    store: join(folder, 'ratri.db'),
    guardrails: {
      rules: [{ id: 'destructive', annotations: { destructiveHint: true }, decision: 'block', reason: 'destructive tools are off' }],
    },
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
  });
  return track(new ProxyProcess(['--config', config], { RATRI_HOME: folder }));
}

async function initialize(proxy: ProxyProcess): Promise<void> {
  proxy.send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  await proxy.response(0);
  proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

const call = (id: number, name: string): object => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { path: '/tmp/a' } },
});

describe('annotation rules for a tool this session has not listed', () => {
  it("use the annotations an earlier session's tools/list left in the registry, and block a tool unknown there too", async () => {
    const folder = dir();
    const first = proxyFor(folder);
    await initialize(first);
    first.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await first.response(1);
    first.child.stdin.end();
    expect((await first.exited).code).toBe(0);

    const second = proxyFor(folder); // never sends tools/list
    await initialize(second);
    second.send(call(2, 'read_file'));
    expect(await second.response(2)).toHaveProperty('result'); // readOnly in the registry: forwarded
    second.send(call(3, 'delete_file'));
    expect((await second.response(3)).error).toMatchObject({
      code: -32001,
      data: { ruleId: 'destructive', reason: 'destructive tools are off', tool: 'files.delete_file' },
    });
    second.send(call(4, 'mystery_tool'));
    expect((await second.response(4)).error).toMatchObject({
      code: -32001,
      data: {
        ruleId: 'destructive',
        reason: 'destructive tools are off (tool "mystery_tool" was never listed: its annotations are unknown)',
      },
    });
  });

  it('a tools/list while another process holds the store: the proxy keeps answering, and registers the tools once the lock is gone', async () => {
    const folder = dir();
    const proxy = proxyFor(folder);
    await initialize(proxy);
    const other = new Database(join(folder, 'ratri.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      await proxy.response(1);
      const sent = Date.now();
      proxy.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
      await proxy.response(2, 900);
      expect(Date.now() - sent).toBeLessThan(900);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const tools = await runCli(['tools', 'list', '--json', '--store', join(folder, 'ratri.db')]);
    expect(tools.code, tools.stderr).toBe(0);
    expect((JSON.parse(tools.stdout) as Array<{ name: string }>).map((t) => t.name).sort()).toEqual(['delete_file', 'read_file']);
  });
});
