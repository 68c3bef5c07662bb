/**
 * `approvals.webhook` against real local HTTP receivers (docs/control-plane.md, "Webhook"): each new
 * pending approval is posted with the redacted arguments, the rule and the commands to decide; a
 * receiver that fails twice gets a third attempt; one that hangs is given up on after the timeout
 * and recorded as a warning, while the held call stays held and other frames never wait.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, newStore, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-webhook-');
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Received {
  headers: IncomingMessage['headers'];
  body: Record<string, any>;
  at: number;
}

/** A receiver on 127.0.0.1; `respond` decides each answer (never calling `res.end` hangs it). */
async function receiver(respond: (n: number, res: ServerResponse) => void): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body: JSON.parse(text) as Record<string, any>, at: Date.now() });
      respond(got.length, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/SECRET-PATH`, got };
}

function start(webhook: Record<string, unknown>, approvalTimeoutMs = 20_000): { proxy: ProxyProcess; store: string } {
  const d = dir();
  const store = newStore(d);
  const file = writeConfig(d, {
    agentKey: 'agent-hook',
    serverName: 'files',
    mode: 'enforce',
    approvalTimeoutMs,
    redactKeys: ['token'],
    store,
    approvals: { webhook },
    guardrails: { rules: [{ id: 'ask-writes', tool: 'write_*', decision: 'require_approval', reason: 'writes need a human' }] },
    upstream: {
      command: process.execPath,
      args: [fixtureServer('byte-recorder.mjs')],
      env: { RECORD_FILE: join(d, 'rec.bin'), SENT_FILE: join(d, 'sent.bin') },
    },
  });
  return { proxy: track(new ProxyProcess(['--config', file])), store };
}

const CALL = {
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'write_file', arguments: { path: '/a.txt', token: 'tok-SECRET' } },
};

async function until<T>(get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function warnings(store: string): Promise<Array<Record<string, any>>> {
  const r = await runCli(['events', '--json', '--type', 'proxy.warning', '--store', store]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { data: Record<string, any> }).data);
}

describe('approvals.webhook', () => {
  it('posts the pending approval as JSON: tool, redacted arguments, rule, commands, with the configured headers', async () => {
    const r = await receiver((_n, res) => res.end('ok'));
    const { proxy } = start({ url: r.url, headers: { authorization: 'Bearer hook-key' } });
    proxy.send(CALL);
    const [post] = await until(() => (r.got.length > 0 ? r.got : undefined));
    expect(post!.headers.authorization).toBe('Bearer hook-key');
    expect(post!.headers['content-type']).toBe('application/json');
    const id = post!.body.approval.id as string;
    expect(id).toMatch(/^apr_[0-9a-f]{10}$/);
    expect(post!.body).toMatchObject({
      type: 'ratri.approval.pending',
      approval: { tool: 'files.write_file', agentKey: 'agent-hook', requestId: '7', ruleId: 'ask-writes', reason: 'writes need a human' },
      commands: { approve: `ratri approvals approve ${id}`, reject: `ratri approvals reject ${id}`, show: `ratri approvals show ${id}` },
    });
    expect(post!.body.approval.arguments).toEqual({ path: '/a.txt', token: '[REDACTED]' });
    expect(JSON.stringify(post!.body)).not.toContain('tok-SECRET');
  });

  it('posts a Slack body ({ text }) and a Teams body (an Adaptive Card) when asked', async () => {
    for (const format of ['slack', 'teams'] as const) {
      const r = await receiver((_n, res) => res.end('ok'));
      const { proxy } = start({ url: r.url, format });
      proxy.send(CALL);
      const [post] = await until(() => (r.got.length > 0 ? r.got : undefined));
      const text =
        format === 'slack'
          ? (post!.body.text as string)
          : (post!.body.attachments[0].content.body as Array<{ text: string }>).map((b) => b.text).join('\n');
      if (format === 'teams') expect(post!.body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(text).toMatch(
        /ratri: files\.write_file waits for approval (apr_\w+) \(agent agent-hook, rule ask-writes: writes need a human\)/,
      );
      expect(text).toMatch(/approve: ratri approvals approve apr_\w+ {3}reject: ratri approvals reject apr_\w+/);
      expect(text).toContain('"token":"[REDACTED]"');
      expect(text).not.toContain('tok-SECRET');
    }
  });

  it('retries a receiver that fails twice, and the third attempt is taken without a warning', async () => {
    const r = await receiver((n, res) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end();
    });
    const { proxy, store } = start({ url: r.url });
    proxy.send(CALL);
    await until(() => (r.got.length >= 3 ? r.got : undefined));
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.got).toHaveLength(3);
    expect(r.got.map((g) => g.body.approval.id)).toEqual(Array(3).fill(r.got[0]!.body.approval.id));
    expect((await warnings(store)).filter((w) => w.kind === 'approval_webhook_failed')).toEqual([]);
  });

  it('gives up on a receiver that hangs after the timeout and three attempts: a warning, the call still held, no frame delayed', async () => {
    const r = await receiver(() => undefined);
    const { proxy, store } = start({ url: r.url, timeoutMs: 300 }, 8_000);
    proxy.send(CALL);
    await until(() => (r.got.length > 0 ? r.got : undefined));
    const sent = Date.now();
    proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' });
    await proxy.response(8);
    expect(Date.now() - sent).toBeLessThan(250);
    let found: Record<string, any> | undefined;
    for (const deadline = Date.now() + 10_000; !found && Date.now() < deadline; ) {
      found = (await warnings(store)).find((w) => w.kind === 'approval_webhook_failed');
      if (!found) await new Promise((res) => setTimeout(res, 200));
    }
    expect(r.got).toHaveLength(3);
    expect(found!.reason).toMatch(
      /^the approval webhook at http:\/\/127\.0\.0\.1:\d+ did not take approval apr_\w+ after 3 attempts: no answer within 300 ms; /,
    );
    expect(JSON.stringify(found)).not.toContain('SECRET-PATH');
    const list = JSON.parse((await runCli(['approvals', 'list', '--json', '--store', store])).stdout) as unknown[];
    expect(list).toHaveLength(1); // still pending: a failed webhook never allows a call
    const answer = await proxy.response(7, 10_000);
    expect(answer.error).toMatchObject({ code: -32002, data: { outcome: 'timeout' } });
  });
});
