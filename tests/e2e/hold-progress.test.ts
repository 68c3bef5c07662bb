/**
 * Progress while a call is held for approval (docs/control-plane.md): the official SDK client with a
 * short timeout and `resetTimeoutOnProgress` keeps waiting because the proxy reports progress, and
 * gets the answer once a human approves with the real `ratri approvals` command. A raw host sees the
 * token spelled exactly as it sent it, the progress growing by one, and no progress after the decision.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, everythingServer, newStore, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';
import { textOf } from '../helpers/sdk.js';

const { dir, track } = cleanUpAfterEach('ratri-hold-progress-');
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

const ASK_ECHO = { id: 'ask-echo', tool: 'echo', decision: 'require_approval' };

function config(progressIntervalMs: number): { file: string; store: string } {
  const d = dir();
  const store = newStore(d);
  const file = writeConfig(d, {
    agentKey: 'agent-progress',
    serverName: 'everything',
    mode: 'enforce',
    approvalTimeoutMs: 30_000,
    store,
    approvals: { progressIntervalMs },
    guardrails: { rules: [ASK_ECHO] },
    upstream: { command: process.execPath, args: [everythingServer] },
  });
  return { file, store };
}

/** Approves the one pending approval with `ratri approvals approve` once it appears, after `afterMs`. */
async function approveLater(store: string, afterMs: number): Promise<string> {
  await new Promise((r) => setTimeout(r, afterMs));
  const list = await runCli(['approvals', 'list', '--json', '--store', store]);
  const [approval] = JSON.parse(list.stdout) as Array<{ id: string }>;
  if (!approval) throw new Error(`no pending approval: ${list.stdout} ${list.stderr}`);
  const approved = await runCli(['approvals', 'approve', approval.id, '--store', store]);
  expect(approved.code, approved.stderr).toBe(0);
  return approval.id;
}

describe('progress while a call is held', () => {
  it('keeps an SDK client with a 1.5 s timeout waiting past it, until the call is approved', async () => {
    const { file, store } = config(400);
    const client = new Client({ name: 'ratri-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', 'proxy', '--config', file] }));
    const progress: Progress[] = [];
    const started = Date.now();
    const call = client.callTool({ name: 'echo', arguments: { message: 'held' } }, undefined, {
      timeout: 1500,
      resetTimeoutOnProgress: true,
      onprogress: (p) => progress.push(p),
    });
    const approvalId = await approveLater(store, 4000);
    const result = await call;
    expect(Date.now() - started).toBeGreaterThan(4000);
    expect(textOf(result)).toContain('held');
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.map((p) => p.progress)).toEqual(progress.map((_, i) => i + 1));
    expect(progress.at(-1)!.message).toMatch(new RegExp(`^waiting for approval ${approvalId} since \\d+ s$`));
  });

  it('echoes the token as the host spelled it, and stops once the call is decided', async () => {
    const { file, store } = config(200);
    const proxy = track(new ProxyProcess(['--config', file]));
    proxy.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await proxy.response(1);
    proxy.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    proxy.send(
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},"_meta":{ "progressToken" : "tok-\\u0041" }}}',
    );
    await proxy.waitFor((m) => m.method === 'notifications/progress');
    await approveLater(store, 500);
    await proxy.response(2);
    const raw = proxy.unread.filter((l) => l.includes('notifications/progress'));
    expect(raw.length).toBeGreaterThanOrEqual(1);
    for (const line of raw) expect(line).toContain('"progressToken":"tok-\\u0041"');
    const before = proxy.unread.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(proxy.unread.slice(before).filter((l) => l.includes('notifications/progress'))).toEqual([]);
  });

  it('stops when the host cancels the held call', async () => {
    const { file } = config(200);
    const proxy = track(new ProxyProcess(['--config', file]));
    proxy.send(
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"},"_meta":{"progressToken":42}}}',
    );
    const first = await proxy.waitFor((m) => m.method === 'notifications/progress');
    expect(first.params).toEqual({
      progressToken: 42,
      progress: 1,
      message: expect.stringMatching(/^waiting for approval apr_\w+ since \d+ s$/),
    });
    proxy.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } });
    proxy.send({ jsonrpc: '2.0', id: 4, method: 'ping' });
    await proxy.response(4);
    const before = proxy.unread.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(proxy.unread.slice(before).filter((l) => l.includes('notifications/progress'))).toEqual([]);
  });
});
