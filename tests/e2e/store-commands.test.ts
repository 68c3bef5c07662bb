/**
 * The commands that look at a store (docs/control-plane.md, "Options of the commands"), through the
 * built CLI on real SQLite files: they never create a store, `--limit` takes only whole numbers,
 * a listing piped into a reader that goes away ends quietly, and printed times say their zone.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-store-commands-');

const LOOKING_COMMANDS: string[][] = [
  ['events'],
  ['events', '--follow'],
  ['approvals', 'list'],
  ['approvals', 'approve', 'apr_0000000000'],
  ['tools', 'list'],
  ['tools', 'trust', 'fs.read_file'],
  ['store', 'info'],
  ['store', 'prune', '--older-than', '1d'],
  ['dashboard', '--port', '0'],
];

/** A store with `calls` tool calls in it, made by a real proxy run. */
async function storeWithCalls(d: string, calls: number): Promise<string> {
  const store = join(d, 'ratri.db');
  const config = writeConfig(d, {
    agentKey: 'agent-commands',
    serverName: 'fs',
    store,
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
  });
  const proxy = track(new ProxyProcess(['--config', config]));
  for (let i = 1; i <= calls; i++)
    proxy.send({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'read_file', arguments: { path: `/f/${i}` } } });
  await proxy.response(calls);
  proxy.child.stdin.end();
  expect((await proxy.exited).code).toBe(0);
  return store;
}

describe('commands that look at a store', () => {
  it('never create one: no store at the default path is an error naming it and the default store', async () => {
    const home = join(dir(), 'ratri-home');
    for (const command of LOOKING_COMMANDS) {
      const r = await runCli(command, '', { RATRI_HOME: home }, 10_000);
      expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(
        `ratri: no store at ${join(home, 'ratri.db')} (the default store is ${join(home, 'ratri.db')}: $RATRI_HOME/ratri.db); run a proxy first`,
      );
      expect(existsSync(home), command.join(' ')).toBe(false);
    }
  });

  it('never create one at a --store or --config path either', async () => {
    const d = dir();
    const missing = join(d, 'typo', 'ratri.db');
    for (const command of LOOKING_COMMANDS) {
      const r = await runCli([...command, '--store', missing], '', {}, 10_000);
      expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`ratri: no store at ${missing} (the default store is `);
    }
    const config = writeConfig(d, { agentKey: 'a', store: 'elsewhere.db', upstream: { command: 'true' } });
    const r = await runCli(['approvals', 'list', '--config', config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no store at ${join(d, 'elsewhere.db')}`);
    expect(readdirSync(d).sort()).toEqual(['ratri.mcp.json']);
  });
});

describe('ratri events --limit', () => {
  it('takes only a whole number of at least 1, naming the flag and the fix', async () => {
    const d = dir();
    const store = await storeWithCalls(d, 3);
    for (const bad of ['abc', '-1', '0', '2.5', '']) {
      const r = await runCli(['events', '--store', store, '--limit', bad]);
      expect(r.code, `--limit ${bad}: ${r.stdout}`).toBe(2);
      expect(r.stderr).toContain(`--limit must be a whole number of at least 1 (the number of newest events to show), not "${bad}"`);
      expect(r.stderr).not.toMatch(/SqliteError|\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const two = await runCli(['events', '--store', store, '--limit', '2', '--json']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout.trim().split('\n')).toHaveLength(2);
  });
});

describe('a listing piped into a reader that goes away', () => {
  it('ratri events | head -1 exits quietly, without an EPIPE stack trace', async () => {
    const d = dir();
    const store = await storeWithCalls(d, 400); // about 1200 events: far more than one pipe buffer
    for (const args of [
      ['events', '--limit', '5000'],
      ['events', '--limit', '5000', '--json'],
    ]) {
      const child = spawn(process.execPath, [cliPath, ...args, '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      // Like `head -1`: read the first chunk, then close the pipe while ratri is still writing.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    }
  });
});

describe('times printed by ratri events', () => {
  it('say their zone: ISO 8601 in UTC, with the Z', async () => {
    const d = dir();
    const store = await storeWithCalls(d, 1);
    const r = await runCli(['events', '--store', store], '', { TZ: 'America/New_York' });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  /);
  });
});
