import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, everythingServer, fixtureServer, isAlive, ProxyProcess, runCli, tempDir, writeConfig } from '../helpers/cli.js';

const dirs: string[] = [];
const pidsToReap: number[] = [];
afterEach(() => {
  for (const pid of pidsToReap.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(env: Record<string, string>, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  dirs.push(dir);
  const pidFile = join(dir, 'pids');
  const config = writeConfig(dir, {
    agentKey: 'test',
    mode: 'enforce',
    upstream: { command: process.execPath, args: [fixtureServer('lifecycle-server.mjs')], env: { PID_FILE: pidFile, ...env } },
    telemetry: { jsonl: join(dir, 'events.jsonl') },
    ...extra,
  });
  return { dir, config, pidFile, events: join(dir, 'events.jsonl') };
}

async function upstreamPids(pidFile: string): Promise<number[]> {
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
  const pids = readFileSync(pidFile, 'utf8').split(' ').map(Number);
  pidsToReap.push(...pids);
  return pids;
}

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };

describe('child lifecycle', () => {
  it('closes upstream stdin on host EOF, waits for it, and exits with its code', async () => {
    const s = setup({});
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send(ping);
    await proxy.response(1);
    const [pid] = await upstreamPids(s.pidFile);
    proxy.child.stdin.end();
    const exit = await proxy.exited;
    expect(exit.code).toBe(0);
    expect(isAlive(pid!)).toBe(false);
    const types = readFileSync(s.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).type);
    expect(types[0]).toBe('mcp.session.started');
    expect(types.at(-1)).toBe('mcp.session.ended');
  });

  it('sends SIGTERM, then SIGKILL, to an upstream that ignores EOF and SIGTERM, and leaves no process behind, within 2 s', async () => {
    const s = setup({ IGNORE_EOF: '1', IGNORE_SIGTERM: '1', GRANDCHILD: '1' });
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send(ping);
    await proxy.response(1);
    const [pid, grandchild] = await upstreamPids(s.pidFile);
    const started = Date.now();
    proxy.child.stdin.end();
    const exit = await proxy.exited;
    const took = Date.now() - started;
    expect(proxy.stderr).toContain('lifecycle-server ignoring SIGTERM');
    expect(took).toBeGreaterThanOrEqual(1200); // SIGTERM 1 s after EOF, SIGKILL 0.25 s later
    expect(took).toBeLessThan(2000); // before a host's SIGTERM (the SDK sends it 2 s after EOF)
    expect(exit.code).toBe(0);
    expect(isAlive(pid!)).toBe(false);
    expect(isAlive(grandchild!)).toBe(false);
  });

  it('on SIGTERM to the proxy, stops the upstream and its children and exits 143', async () => {
    const s = setup({ GRANDCHILD: '1', IGNORE_EOF: '1' });
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send(ping);
    await proxy.response(1);
    const [pid, grandchild] = await upstreamPids(s.pidFile);
    proxy.child.kill('SIGTERM');
    const exit = await proxy.exited;
    expect(exit.code).toBe(143);
    expect(isAlive(pid!)).toBe(false);
    expect(isAlive(grandchild!)).toBe(false);
  });

  it('on SIGTERM while still starting (the upstream spawned, the session not yet made), stops the upstream and exits 143', async () => {
    // The stdio proxy spawns the upstream before it loads the session's modules (docs/performance.md#start-up).
    // This upstream writes its pid at once and never reads stdin, so the signal lands in that window; the
    // upstream lives in its own process group, so only ratri can stop it.
    const dir = tempDir();
    dirs.push(dir);
    const pidFile = join(dir, 'pid');
    const config = writeConfig(dir, {
      agentKey: 'test',
      store: join(dir, 'ratri.db'),
      upstream: { command: '/bin/sh', args: ['-c', `echo $$ > '${pidFile}'; exec sleep 30`] },
    });
    const proxy = new ProxyProcess(['--config', config]);
    for (let i = 0; i < 2000 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 1));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    pidsToReap.push(pid);
    proxy.child.kill('SIGTERM');
    const exit = await proxy.exited;
    expect(exit.code).toBe(143);
    expect(isAlive(pid)).toBe(false);
  });

  it('answers every pending call -32603 when the upstream crashes, and exits with its code', async () => {
    const s = setup({ CRASH_ON: 'tools/call:7', GRANDCHILD: '1' });
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send({ jsonrpc: '2.0', id: 'slow', method: 'resources/read', params: { uri: 'x' } });
    await proxy.response('slow');
    const [, grandchild] = await upstreamPids(s.pidFile);
    proxy.send({ jsonrpc: '2.0', id: 'pending-ping', method: 'vendor/slow' });
    await proxy.response('pending-ping');
    proxy.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'anything', arguments: {} } });
    const answer = await proxy.response(9);
    expect(answer.error).toEqual({
      code: -32603,
      message: 'Upstream MCP server exited before answering',
      data: { upstreamExitCode: 7, signal: null },
    });
    const exit = await proxy.exited;
    expect(exit.code).toBe(7);
    expect(proxy.stderr).toContain('exited with code 7');
    expect(isAlive(grandchild!)).toBe(false);
    const events = readFileSync(s.events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'agent.tool.failed')?.data.error.code).toBe(-32603);
    expect(events.at(-1).type).toBe('mcp.session.ended');
  });

  it('an upstream that exits after half a line: the host gets only whole JSON-RPC lines, its -32603 among them, and a warning is stored', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = join(dir, 'ratri.db');
    const s = setup({ HALF_LINE_ON: 'tools/call:4' }, { store: db });
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send(ping);
    await proxy.response(1);
    proxy.send({ jsonrpc: '2.0', id: 'cut', method: 'tools/call', params: { name: 'anything', arguments: {} } });
    const exit = await proxy.exited;
    expect(exit.code).toBe(4);
    const lines = proxy.unread;
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        jsonrpc: '2.0',
        id: 'cut',
        error: { code: -32603, message: 'Upstream MCP server exited before answering', data: { upstreamExitCode: 4, signal: null } },
      },
    ]);
    expect(proxy.stderr).toMatch(
      /output ended in the middle of a frame \(\d+ bytes without a newline\): not a complete JSON-RPC message, not relayed/,
    );
    const events = await storedEvents(db);
    expect(events.find((e) => e.type === 'proxy.warning')?.data).toMatchObject({
      kind: 'unfinished_frame',
      direction: 'upstream',
      relayed: false,
    });
    expect(events.find((e) => e.type === 'agent.tool.failed')?.data.error).toMatchObject({ code: -32603 });
  });

  it('passes upstream stderr to its own stderr, never to stdout', async () => {
    const s = setup({});
    const result = await runCli(['mcp', 'proxy', '--config', s.config], JSON.stringify(ping) + '\n');
    expect(result.stderr).toContain('lifecycle-server ready');
    expect(result.stdout).toBe('{"jsonrpc":"2.0","id":1,"result":{"ok":true}}\n');
  });

  it('names a command that cannot be started, and exits 127', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const config = writeConfig(dir, { agentKey: 't', upstream: { command: 'ratri-no-such-server' } });
    const result = await runCli(['mcp', 'proxy', '--config', config]);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('cannot start upstream command "ratri-no-such-server": not found');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stdout).toBe('');
  });
});

/** The events in the store at `db`, oldest first, read back with `ratri events`. */
async function storedEvents(db: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const result = await runCli(['events', '--json', '--limit', '1000', '--store', db]);
  expect(result.code).toBe(0);
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Does `act`, then resolves with how many ms the proxy took to exit, and how. */
async function exitAfter(
  proxy: ProxyProcess,
  act: () => void,
): Promise<{ took: number; code: number | null; signal: NodeJS.Signals | null }> {
  const started = Date.now();
  act();
  const exit = await proxy.exited;
  return { took: Date.now() - started, ...exit };
}

const neverAnswered = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: {} } };

/**
 * A host gives its server 2 s after closing stdin before SIGTERM (the SDK's StdioClientTransport
 * .close()), and SIGKILL 2 s later; a SIGKILLed ratri would leave its upstream running under pid 1.
 */
describe('leaving on time, leaving nothing', () => {
  function setupStored(env: Record<string, string>) {
    const dir = tempDir();
    dirs.push(dir);
    const db = join(dir, 'ratri.db');
    return { ...setup(env, { store: db }), db };
  }

  /** Sends the call that is never answered; the ping after it proves it was forwarded. */
  async function startSlowCall(proxy: ProxyProcess): Promise<void> {
    proxy.send(neverAnswered);
    proxy.send(ping);
    await proxy.response(1);
  }

  it('the SDK client closing mid-call: ratri stopped the upstream, stored the end and exited before the SDK would send SIGTERM', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = join(dir, 'ratri.db');
    const config = writeConfig(dir, {
      agentKey: 'sdk-close',
      mode: 'monitor',
      store: db,
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp', 'proxy', '--config', config],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'ratri-e2e', version: '1.0.0' });
    await client.connect(transport);
    const ratriPid = transport.pid!;
    pidsToReap.push(ratriPid);
    // The call is recorded when it ends (docs/events.md#one-record-per-call): its first progress
    // notification says it reached the upstream.
    let progressed = (): void => undefined;
    const atUpstream = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    const call = client
      .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, {
        onprogress: () => progressed(),
      })
      .catch((err: Error) => err);
    await atUpstream;
    let events = await storedEvents(db);
    const upstreamPid = (events[0]!.data.upstream as { pid: number }).pid;
    pidsToReap.push(upstreamPid);
    const started = Date.now();
    await client.close(); // ends ratri's stdin; SIGTERM after 2 s, SIGKILL after 4 s
    const took = Date.now() - started;
    expect(took).toBeLessThan(2000);
    expect(await call).toBeInstanceOf(Error); // (an upstream left holding stderr would keep it pending)
    expect(isAlive(ratriPid)).toBe(false);
    expect(isAlive(upstreamPid)).toBe(false);
    events = await storedEvents(db);
    expect(events.at(-1)).toMatchObject({ type: 'mcp.session.ended', data: { reason: 'host closed stdin' } });
    expect(events.map((e) => e.type)).toContain('agent.tool.failed');
  });

  it('raw EOF with a call that is never answered: the host gets -32603, the upstream that ignores EOF and SIGTERM is killed, all within 2 s', async () => {
    const s = setupStored({ NEVER_ANSWER: 'tools/call', IGNORE_EOF: '1', IGNORE_SIGTERM: '1', GRANDCHILD: '1' });
    const proxy = new ProxyProcess(['--config', s.config]);
    await startSlowCall(proxy);
    const [pid, grandchild] = await upstreamPids(s.pidFile);
    const exit = await exitAfter(proxy, () => proxy.child.stdin.end());
    expect(exit.took).toBeLessThan(2000);
    expect(exit.code).toBe(0);
    expect(proxy.stderr).toContain('lifecycle-server ignoring SIGTERM');
    expect((await proxy.response(7, 100)).error).toMatchObject({ code: -32603, data: { upstreamExitCode: null, signal: 'SIGKILL' } });
    expect(isAlive(pid!)).toBe(false);
    expect(isAlive(grandchild!)).toBe(false);
    expect((await storedEvents(s.db)).at(-1)).toMatchObject({ type: 'mcp.session.ended', data: { reason: 'host closed stdin' } });
  });

  it('a call the host cancelled is not waited for at EOF, and gets no -32603', async () => {
    const waited = setupStored({ NEVER_ANSWER: 'tools/call' });
    const control = new ProxyProcess(['--config', waited.config]);
    await startSlowCall(control);
    const uncancelled = await exitAfter(control, () => control.child.stdin.end());
    expect(uncancelled.took).toBeGreaterThanOrEqual(700); // answers are waited for 0.75 s
    expect((await control.response(7, 100)).error).toMatchObject({ code: -32603 });

    const s = setupStored({ NEVER_ANSWER: 'tools/call' });
    const proxy = new ProxyProcess(['--config', s.config]);
    proxy.send(neverAnswered);
    proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'user pressed stop' } });
    proxy.send(ping);
    await proxy.response(1);
    const [pid] = await upstreamPids(s.pidFile);
    const exit = await exitAfter(proxy, () => proxy.child.stdin.end());
    expect(exit.took).toBeLessThan(700);
    expect(exit.code).toBe(0);
    expect(proxy.unread).toEqual([]); // no answer to the cancelled call
    expect(isAlive(pid!)).toBe(false);
    const events = await storedEvents(s.db);
    expect(events.find((e) => e.type === 'agent.tool.failed')?.data.error).toEqual({
      code: null,
      message: 'cancelled by the host; the upstream exited before answering',
    });
    expect(events.at(-1)?.type).toBe('mcp.session.ended');
  });

  it('a SIGTERM during the stop after EOF kills the upstream group at once (no SIGTERM first), flushes and exits 143', async () => {
    const s = setupStored({ NEVER_ANSWER: 'tools/call', IGNORE_EOF: '1', IGNORE_SIGTERM: '1', GRANDCHILD: '1' });
    const proxy = new ProxyProcess(['--config', s.config]);
    await startSlowCall(proxy);
    const [pid, grandchild] = await upstreamPids(s.pidFile);
    proxy.child.stdin.end();
    await new Promise((r) => setTimeout(r, 100));
    const exit = await exitAfter(proxy, () => proxy.child.kill('SIGTERM'));
    expect(exit.took).toBeLessThan(800); // left alone, it would SIGTERM at 1 s and SIGKILL at 1.25 s after EOF
    expect(exit.code).toBe(143);
    expect(proxy.stderr).not.toContain('lifecycle-server ignoring SIGTERM');
    expect(isAlive(pid!)).toBe(false);
    expect(isAlive(grandchild!)).toBe(false);
    expect((await storedEvents(s.db)).at(-1)).toMatchObject({
      type: 'mcp.session.ended',
      data: { reason: 'proxy received SIGTERM', signal: 'SIGKILL' },
    });
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s to a running proxy with a call in flight: upstream group stopped, end stored, exit %i within 2 s',
    async (signal, code) => {
      const s = setupStored({ NEVER_ANSWER: 'tools/call', IGNORE_EOF: '1', GRANDCHILD: '1' });
      const proxy = new ProxyProcess(['--config', s.config]);
      await startSlowCall(proxy);
      const [pid, grandchild] = await upstreamPids(s.pidFile);
      const exit = await exitAfter(proxy, () => proxy.child.kill(signal));
      expect(exit.took).toBeLessThan(2000);
      expect(exit.code).toBe(code);
      expect((await proxy.response(7, 100)).error).toMatchObject({ code: -32603, data: { signal: 'SIGTERM' } });
      expect(isAlive(pid!)).toBe(false);
      expect(isAlive(grandchild!)).toBe(false);
      expect((await storedEvents(s.db)).at(-1)).toMatchObject({ type: 'mcp.session.ended', data: { reason: `proxy received ${signal}` } });
    },
  );
});

describe('stalled frames', () => {
  it('says on stderr when the host leaves a frame half-written, and forwards it once the line ends', async () => {
    const s = setup({});
    const proxy = new ProxyProcess(['--config', s.config], { RATRI_STALL_WARN_MS: '300' });
    proxy.send(ping);
    await proxy.response(1); // the proxy and its upstream are up
    proxy.child.stdin.write('{"jsonrpc":"2.0","id":5,"method":"pi');
    await new Promise((r) => setTimeout(r, 1000));
    expect(proxy.stderr).toMatch(
      /the host has sent 36 bytes of a frame without its newline and nothing more for \d+\.\d s; it is forwarded only once its line ends/,
    );
    proxy.child.stdin.write('ng"}\n');
    expect(await proxy.response(5)).toEqual({ jsonrpc: '2.0', id: 5, result: { ok: true } });
    proxy.child.stdin.end();
    await proxy.exited;
  });
});

describe('bad configuration', () => {
  it('lists every problem with its JSON path, exits 2, and prints no stack trace', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const config = writeConfig(dir, {
      mode: 'enforcing',
      upstream: { comand: 'x' },
      guardrails: { rules: [{ id: 'a', decision: 'deny' }] },
    });
    const result = await runCli(['mcp', 'proxy', '--config', config]);
    expect(result.code).toBe(2);
    for (const line of [
      '- agentKey: is required',
      '- mode: must be one of "monitor", "enforce"',
      '- upstream.command: is required',
      '- upstream.comand: unknown field',
      '- guardrails.rules[0].decision: must be one of "allow", "warn", "block", "require_approval", "redact"',
    ]) {
      expect(result.stderr).toContain(line);
    }
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('lists the server names when --server names none of them', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const upstream = { command: process.execPath, args: [fixtureServer('lifecycle-server.mjs')] };
    const config = writeConfig(dir, { agentKey: 't', servers: { github: { upstream }, files: { upstream } } });
    const result = await runCli(['mcp', 'proxy', '--config', config, '--server', 'gitlab']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"gitlab" is not in "servers"; the names are: github, files');
    const ok = await runCli(['mcp', 'proxy', '--config', config, '--server', 'files'], JSON.stringify(ping) + '\n');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('"ok":true');
  });
});
