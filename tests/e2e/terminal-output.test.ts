/**
 * Terminal output is safe (docs/events.md, "Terminal output"): names, arguments and error messages
 * that came from a host or an upstream are printed with their control characters, escape sequences
 * and bidi controls made visible, by `ratri events`, `ratri tools list`, `ratri approvals`,
 * `ratri doctor` and the proxy's stderr lines. The upstream is fixtures/servers/hostile-names-server.mjs.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-terminal-');

const RLO_NAME = 'invoice-\u202egnp.exe';
const CLEAR_NAME = 'clear\u001b[2J\u001b[Hscreen';

/** Raw characters no printed line may carry: C0 controls (but newline), DEL, C1, bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

function expectSafe(text: string): void {
  const bad = UNSAFE.exec(text);
  expect(
    bad
      ? `U+${bad[0].codePointAt(0)!.toString(16)} at ${bad.index}: ${JSON.stringify(text.slice(Math.max(0, bad.index - 40), bad.index + 10))}`
      : 'none',
  ).toBe('none');
}

function setup(d: string, fields: Record<string, unknown> = {}): { config: string; store: string } {
  const store = join(d, 'ratri.db');
  const config = writeConfig(d, {
    agentKey: 'agent-terminal',
    serverName: 'mail',
    mode: 'enforce',
    store,
    approvalTimeoutMs: 30_000,
    guardrails: { rules: [{ id: 'invoices-need-a-human', tool: 'invoice-*', decision: 'require_approval', reason: 'sending invoices' }] },
    upstream: { command: process.execPath, args: [fixtureServer('hostile-names-server.mjs')] },
    ...fields,
  });
  return { config, store };
}

function start(d: string, fields: Record<string, unknown> = {}): { store: string; proxy: ProxyProcess } {
  const { config, store } = setup(d, fields);
  return { store, proxy: track(new ProxyProcess(['--config', config])) };
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('values from hosts and upstreams on the terminal', () => {
  it('ratri events, tools list and approvals show escape sequences and bidi controls as \\x1b and \\u202e', async () => {
    const d = dir();
    const { store, proxy } = start(d);
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await proxy.response(1);
    proxy.send(call(2, 'send_mail', { note: 'left\u202eright \u001b]0;title\u0007' }));
    expect((await proxy.response(2)).error).toMatchObject({ code: -32000 }); // the upstream's message is hostile
    proxy.send(call(4, CLEAR_NAME));
    expect((await proxy.response(4)).error).toMatchObject({ code: -32600 }); // a tool name with control characters is refused
    proxy.send(call(3, RLO_NAME, { to: 'bob\u2067' }));
    const s = ['--store', store];

    const tools = await runCli(['tools', 'list', ...s]);
    expect(tools.code, tools.stderr).toBe(0);
    expectSafe(tools.stdout);
    expect(tools.stdout).toContain('mail.invoice-\\u202egnp.exe');
    expect(tools.stdout).toContain('Sends \\x1b]0;pwned\\x07 invoices');
    expect(tools.stdout).toContain('C1 \\x9b control');

    let pending: Array<{ id: string }> = [];
    for (let i = 0; i < 100 && pending.length === 0; i++) {
      pending = JSON.parse((await runCli(['approvals', 'list', '--json', ...s])).stdout) as Array<{ id: string }>;
      if (pending.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    // Events reach the store in batches: wait for the held call's.
    let events = await runCli(['events', ...s, '--limit', '100']);
    for (let i = 0; i < 50 && !events.stdout.includes('agent.approval.requested'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      events = await runCli(['events', ...s, '--limit', '100']);
    }
    expect(events.code, events.stderr).toBe(0);
    expectSafe(events.stdout);
    expect(events.stdout).toContain('mail.invoice-\\u202egnp.exe');
    expect(events.stdout).toContain('boom \\x1b[31mred ratri: approved'); // the newline is a space in a table cell
    expect(events.stdout).toContain('left\\u202eright');

    const list = await runCli(['approvals', 'list', ...s]);
    expectSafe(list.stdout);
    expect(list.stdout).toContain('mail.invoice-\\u202egnp.exe');
    expect(list.stdout).toContain('bob\\u2067');

    const approve = await runCli(['approvals', 'approve', pending[0]!.id, ...s]);
    expect(approve.code, approve.stderr).toBe(0);
    expectSafe(approve.stdout);
    expect(approve.stdout).toContain(`${pending[0]!.id}: mail.invoice-\\u202egnp.exe;`);
    const again = await runCli(['approvals', 'approve', pending[0]!.id, ...s]);
    expect(again.code).toBe(1);
    expectSafe(again.stderr);
    expect(again.stderr).toContain('(mail.invoice-\\u202egnp.exe) was already approved');
  });

  it("the proxy's stderr lines quote a host's request id visibly", async () => {
    const d = dir();
    const { proxy } = start(d, { maxFrameBytes: 2048 });
    // Raw C1, bidi and DEL characters are valid inside a JSON string; the id is quoted in the log line.
    proxy.send(
      `{"jsonrpc":"2.0","id":"a\u009b2J\u202e\u007fz","method":"tools/call","params":{"name":"x","arguments":{"pad":"${'x'.repeat(4096)}"}}}`,
    );
    const refused = await proxy.waitFor((m) => (m.error as { code?: number } | undefined)?.code === -32600);
    expect(refused.id).toBe('a\u009b2J\u202e\u007fz'); // the host still gets its own id back, exactly
    const line = proxy.stderr.split('\n').find((l) => l.includes('refused a host frame'));
    expect(line).toContain('(request id "a\\x9b2J\\u202e\\x7fz")');
    expectSafe(proxy.stderr);
  });

  it('ratri doctor shows the tool names and server name of the upstream visibly', async () => {
    const d = dir();
    const { config } = setup(d);
    const r = await runCli(['doctor', '--mcp', '--mcp-config', config]);
    expectSafe(r.stdout);
    expect(r.stdout).toContain('hostile\\x1b[8m-server');
    expect(r.stdout).toContain('invoice-\\u202egnp.exe');
    expect(r.stdout).toContain('clear\\x1b[2J\\x1b[Hscreen');
  });
});
