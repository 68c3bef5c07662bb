/**
 * Grants end to end on the embedded store (docs/control-plane.md, "Grants"): an approval made after
 * the host gave up on the call (the SDK client's timeout cancels it; or the hold timed out) becomes a
 * one-time grant for the same call; `approve --always` on a rule's hold stores an always grant
 * (optionally of these arguments only) that never overrides `block`; `ratri grants list|revoke`.
 * Real parts only: the built CLI, the official SDK client, server-everything and the byte recorder.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, everythingServer, fixtureServer, newStore, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';
import { callError, textOf } from '../helpers/sdk.js';

const { dir, track } = cleanUpAfterEach('ratri-grants-');
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

type Json = Record<string, any>;

async function cli(store: string, ...args: string[]) {
  return runCli([...args, '--store', store]);
}

async function json(store: string, ...args: string[]): Promise<any> {
  const r = await cli(store, ...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function pending(store: string, count = 1): Promise<Json[]> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const list = (await json(store, 'approvals', 'list')) as Json[];
    if (list.length >= count) return list;
    if (Date.now() > deadline) throw new Error('no pending approval appeared');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function guardEvents(store: string): Promise<Json[]> {
  const r = await cli(store, 'events', '--json', '--type', 'agent.guardrail.evaluated', '--limit', '100');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { data: Json }).data);
}

function recorderProxy(rules: unknown[], approvalTimeoutMs = 20_000): { proxy: ProxyProcess; store: string } {
  const d = dir();
  const store = newStore(d);
  const file = writeConfig(d, {
    agentKey: 'agent-grants',
    serverName: 'files',
    mode: 'enforce',
    approvalTimeoutMs,
    store,
    guardrails: { rules },
    upstream: {
      command: process.execPath,
      args: [fixtureServer('byte-recorder.mjs')],
      env: { RECORD_FILE: join(d, 'rec.bin'), SENT_FILE: join(d, 'sent.bin') },
    },
  });
  return { proxy: track(new ProxyProcess(['--config', file])), store };
}

const call = (id: number, args: Json, name = 'write_file'): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('a late approval becomes a one-time grant', () => {
  it('after the SDK client gave up (timeout, then notifications/cancelled), approving lets the same call pass once', async () => {
    const d = dir();
    const store = newStore(d);
    const file = writeConfig(d, {
      agentKey: 'agent-grants',
      serverName: 'everything',
      mode: 'enforce',
      store,
      guardrails: { rules: [{ id: 'ask-echo', tool: 'echo', decision: 'require_approval' }] },
      upstream: { command: process.execPath, args: [everythingServer] },
    });
    const client = new Client({ name: 'ratri-e2e', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp', 'proxy', '--config', file] }));
    const args = { message: 'late but wanted' };
    const gaveUp = await callError(client.callTool({ name: 'echo', arguments: args }, undefined, { timeout: 1000 }));
    expect(gaveUp.message).toContain('Request timed out');

    const [approval] = await pending(store);
    expect(approval!.hostGoneAt).toEqual(expect.any(String));
    const listed = await cli(store, 'approvals', 'list');
    expect(listed.stdout).toContain('pending, host gone');
    const approved = await cli(store, 'approvals', 'approve', approval!.id, '--by', 'alice');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(
      new RegExp(
        `approved ${approval!.id}: everything\\.echo; its host is no longer waiting \\(it cancelled the call, or the hold ended\\), so nothing is forwarded now; grant (grt_[0-9a-f]{10}) lets the same call \\(the same tool and arguments\\) from agent agent-grants pass once without a new hold until `,
      ),
    );
    const grantId = /grant (grt_[0-9a-f]{10})/.exec(approved.stdout)![1]!;

    // The host retries: the same call passes at once, without a new hold; a second retry is held again.
    const result = await client.callTool({ name: 'echo', arguments: { message: 'late but wanted' } }, undefined, { timeout: 5000 });
    expect(textOf(result)).toContain('late but wanted');
    const events = await guardEvents(store);
    expect(events.at(-1)).toMatchObject({ decision: 'allow', ruleId: 'ask-echo', grantId, enforced: true });
    expect(events.at(-1)!.reason).toContain(
      `allowed by a one-time grant from a late approval ${grantId} (approval ${approval!.id} by alice)`,
    );
    expect(await json(store, 'grants', 'list')).toEqual([]);
    expect(await json(store, 'grants', 'list', '--all')).toEqual([
      expect.objectContaining({ id: grantId, kind: 'once', tool: 'echo', argsMatch: true, usedAt: expect.any(String) }),
    ]);
    const again = callError(client.callTool({ name: 'echo', arguments: args }, undefined, { timeout: 1000 }));
    await pending(store);
    await again;
  });

  it('after the hold timed out (-32002), approving makes a grant for the same arguments only', async () => {
    const { proxy, store } = recorderProxy([{ id: 'ask-writes', tool: 'write_*', decision: 'require_approval' }], 600);
    proxy.send(call(1, { path: '/a', n: 1 }));
    expect((await proxy.response(1)).error).toMatchObject({ code: -32002, data: { outcome: 'timeout' } });
    const [approval] = await pending(store);
    expect(approval!.status).toBe('pending');
    const approved = await json(store, 'approvals', 'approve', approval!.id);
    expect(approved.grant).toMatchObject({ kind: 'once', argsMatch: true, approvalId: approval!.id });
    proxy.send(call(2, { path: '/a', n: 2 })); // other arguments: held
    await pending(store);
    proxy.send(call(3, { n: 1, path: '/a' })); // the same arguments in another key order: passes
    expect((await proxy.response(3)).result).toBeDefined();
  });
});

describe('approve --always stores an allowlist grant', () => {
  const rules = [
    { id: 'no-etc', tool: 'write_*', args: { path: { glob: '/etc/**' } }, decision: 'block' },
    { id: 'writes-need-a-human', tool: 'write_*', decision: 'require_approval' },
  ];

  it('passes the rule for that tool and agent, never a block rule, until revoked', async () => {
    const { proxy, store } = recorderProxy(rules);
    proxy.send(call(1, { path: '/srv/a' }));
    const [approval] = await pending(store);
    const approved = await cli(store, 'approvals', 'approve', approval!.id, '--always');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(
      /always: files\.write_file joined the approved tools of agent agent-grants and its current definition is trusted; grant (grt_\w+) lets its calls pass rule "writes-need-a-human" and any other require_approval for this agent without a hold \(block rules still apply; ratri grants revoke grt_\w+ ends it\)\./,
    );
    expect((await proxy.response(1)).result).toBeDefined();
    const [grant] = (await json(store, 'grants', 'list')) as Json[];
    expect(grant).toMatchObject({ kind: 'always', tool: 'write_file', agentKey: 'agent-grants', argsMatch: false, expiresAt: null });

    proxy.send(call(2, { path: '/srv/other' }));
    expect((await proxy.response(2)).result).toBeDefined();
    proxy.send(call(3, { path: '/etc/passwd' }));
    expect((await proxy.response(3)).error).toMatchObject({ code: -32001, data: { ruleId: 'no-etc' } });

    const revoked = await cli(store, 'grants', 'revoke', grant!.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked ${grant!.id}: calls to files.write_file from agent agent-grants are held for approval again`);
    const twice = await cli(store, 'grants', 'revoke', grant!.id);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('was already revoked');
    proxy.send(call(4, { path: '/srv/a' }));
    expect(await pending(store)).toEqual([expect.objectContaining({ requestId: '4' })]);
  });

  it('with --args-match passes only calls with those same arguments', async () => {
    const { proxy, store } = recorderProxy(rules);
    proxy.send(call(1, { path: '/srv/a' }));
    const [approval] = await pending(store);
    const approved = await json(store, 'approvals', 'approve', approval!.id, '--always', '--args-match');
    expect(approved.grant).toMatchObject({ kind: 'always', argsMatch: true });
    await proxy.response(1);
    proxy.send(call(2, { path: '/srv/a' }));
    expect((await proxy.response(2)).result).toBeDefined();
    proxy.send(call(3, { path: '/srv/b' }));
    expect(await pending(store)).toEqual([expect.objectContaining({ requestId: '3' })]);
    const usage = await cli(store, 'approvals', 'approve', 'apr_x', '--args-match');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--args-match needs --always');
  });
});
