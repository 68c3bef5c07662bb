/**
 * `require_approval` fails closed: when no approval can be created (the store locked by another
 * process past the guard deadline, an insert that fails, the remote API away), the call is refused
 * with -32002 `outcome: "unavailable"` and never forwarded — even under `guardFailureMode:
 * "fail_open"` — and the proxy keeps answering other traffic meanwhile. Real proxy, real SQLite file
 * (locked from this process with BEGIN EXCLUSIVE), real fixture upstream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-unavailable-');

interface Setup {
  store: string;
  record: string;
  proxy: ProxyProcess;
}

const ASK_WRITES = { id: 'ask-writes', tool: 'write_*', decision: 'require_approval', reason: 'writes need a human' };

function start(extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Setup {
  const folder = dir();
  const record = join(folder, 'upstream-received.bin');
  const store = join(folder, 'ratri.db');
  const config = writeConfig(folder, {
    agentKey: 'agent-unavailable',
    serverName: 'files',
    mode: 'enforce',
    guardFailureMode: 'fail_open', // must not matter: an approval nobody can see is not an approval
    guardTimeoutMs: 1000,
    store,
    guardrails: { rules: [ASK_WRITES] },
    upstream: {
      command: process.execPath,
      args: [fixtureServer('byte-recorder.mjs')],
      env: { RECORD_FILE: record, SENT_FILE: join(folder, 'sent.bin') },
    },
    ...extra,
  });
  const proxy = track(new ProxyProcess(['--config', config], { RATRI_HOME: folder, ...env }));
  return { store, record, proxy };
}

const received = (s: Setup): string => (existsSync(s.record) ? readFileSync(s.record, 'utf8') : '');
const call = (id: number, name: string): object => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { path: '/srv/x' } },
});

function expectUnavailable(answer: Record<string, unknown>, reason: RegExp): void {
  expect(answer.error).toMatchObject({
    code: -32002,
    message: 'Tool call not approved: no approval could be requested',
    data: { decision: 'require_approval', approvalId: null, outcome: 'unavailable', ruleId: 'ask-writes' },
  });
  expect((answer.error as { data: { reason: string } }).data.reason).toMatch(reason);
}

describe('an approval that cannot be created', () => {
  it('store locked by another process: refused -32002 unavailable, never forwarded, and ping and allowed calls flow meanwhile', async () => {
    const s = start();
    s.proxy.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await s.proxy.response(1); // the store exists and the session has started
    const other = new Database(s.store);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const sent = Date.now();
      s.proxy.send(call(7, 'write_file'));
      s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
      s.proxy.send(call(9, 'read_file'));
      await s.proxy.response(8, 900);
      await s.proxy.response(9, 900);
      const pingMs = Date.now() - sent;
      expect(s.proxy.unread.some((l) => l.includes('"id":7'))).toBe(false); // still held, not answered or forwarded
      expectUnavailable(
        await s.proxy.response(7, 5000),
        /^no approval could be created: the store \S+ratri\.db is locked by another process; no answer within guardTimeoutMs \(1000 ms\)$/,
      );
      expect(pingMs).toBeLessThan(900);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect(received(s)).not.toContain('write_file');
    expect(received(s)).toContain('read_file');
    // The proxy stopped trying: once the lock is gone no approval is left pending for a call nobody waits for.
    await new Promise((r) => setTimeout(r, 300));
    const list = await runCli(['approvals', 'list', '--json', '--store', s.store]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    s.proxy.send({ jsonrpc: '2.0', id: 10, method: 'ping' });
    await s.proxy.response(10);
    expect(received(s)).not.toContain('write_file');
  });

  it('a call cancelled while its approval waits for the store: the approval, once written, is expired at once (no grant window)', async () => {
    const s = start({ guardTimeoutMs: 10_000, approvals: { grantWindowMs: 0 } });
    s.proxy.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await s.proxy.response(1);
    const other = new Database(s.store);
    try {
      other.exec('BEGIN EXCLUSIVE');
      s.proxy.send(call(7, 'write_file'));
      await new Promise((r) => setTimeout(r, 300));
      s.proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
      s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
      await s.proxy.response(8, 900);
      other.exec('ROLLBACK'); // the approval is written now, for a call nobody waits for
    } finally {
      other.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    const all = JSON.parse((await runCli(['approvals', 'list', '--status', 'all', '--json', '--store', s.store])).stdout) as Array<{
      status: string;
    }>;
    expect(all.map((a) => a.status)).toEqual(['expired']);
    expect(s.proxy.unread.some((l) => l.includes('"id":7'))).toBe(false); // a cancelled call gets no answer
    expect(received(s)).not.toContain('write_file');
  });

  it('an approval that times out while another process holds the store: its expiry waits for the lock without freezing the proxy', async () => {
    const s = start({ approvalTimeoutMs: 800 });
    s.proxy.send(call(7, 'write_file'));
    s.proxy.send({ jsonrpc: '2.0', id: 6, method: 'ping' });
    await s.proxy.response(6); // read after the call: the call is held and its approval written
    const other = new Database(s.store);
    try {
      other.exec('BEGIN EXCLUSIVE');
      await new Promise((r) => setTimeout(r, 1200)); // the timeout passes while the store is locked
      const sent = Date.now();
      s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
      await s.proxy.response(8, 900);
      expect(Date.now() - sent).toBeLessThan(900);
      expect(s.proxy.unread.some((l) => l.includes('"id":7'))).toBe(false);
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    expect((await s.proxy.response(7, 5000)).error).toMatchObject({ code: -32002, data: { outcome: 'timeout' } });
    expect(received(s)).not.toContain('write_file');
  });

  it("an insert that fails (not a lock): refused at once with the store's reason", async () => {
    const s = start();
    s.proxy.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await s.proxy.response(1);
    const other = new Database(s.store);
    other.exec("CREATE TRIGGER no_room BEFORE INSERT ON approvals BEGIN SELECT RAISE(ABORT, 'database or disk is full (simulated)'); END");
    other.close();
    s.proxy.send(call(7, 'write_file'));
    expectUnavailable(await s.proxy.response(7, 2000), /^no approval could be created: database or disk is full \(simulated\)$/);
    s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
    await s.proxy.response(8);
    expect(received(s)).not.toContain('write_file');
  });

  it('remote API unreachable: a call the local rules send for approval is refused -32002 unavailable, never forwarded', async () => {
    const s = start({ api: { url: 'http://127.0.0.1:9', keyEnv: 'UNAVAILABLE_KEY' } }, { UNAVAILABLE_KEY: 'k' });
    s.proxy.send(call(7, 'write_file'));
    expectUnavailable(
      await s.proxy.response(7, 5000),
      /^no approval could be created: the control plane at http:\/\/127\.0\.0\.1:9 did not create it; cannot reach the control plane at http:\/\/127\.0\.0\.1:9: ECONNREFUSED$/,
    );
    s.proxy.send(call(8, 'read_file')); // not an approval: guardFailureMode (fail_open) still decides
    await s.proxy.response(8, 5000);
    expect(received(s)).not.toContain('write_file');
    expect(received(s)).toContain('read_file');
  });

  it('remote API that never answers: refused -32002 unavailable at guardTimeoutMs, and the proxy keeps answering meanwhile', async () => {
    const silent = createServer(() => undefined); // accepts every request and never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const s = start({ api: { url, keyEnv: 'UNAVAILABLE_KEY' } }, { UNAVAILABLE_KEY: 'k' });
      s.proxy.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
      await s.proxy.response(1); // started
      const sent = Date.now();
      s.proxy.send(call(7, 'write_file'));
      s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
      await s.proxy.response(8, 900);
      expect(s.proxy.unread.some((l) => l.includes('"id":7'))).toBe(false);
      expectUnavailable(
        await s.proxy.response(7, 5000),
        /^no approval could be created: the control plane at http:\/\/127\.0\.0\.1:\d+ did not create it; no answer within guardTimeoutMs \(1000 ms\)$/,
      );
      expect(Date.now() - sent).toBeGreaterThanOrEqual(1000);
      expect(received(s)).not.toContain('write_file');
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
