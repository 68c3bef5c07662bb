/**
 * The HTTP front in the 2026-07-28 era: the v2 SDK client, pinned to 2026-07-28 and in auto mode,
 * through `ratri mcp proxy --transport http` to the dual-era fixture server (stdio) — lists, calls,
 * a block and a held call approved, in monitor and enforce mode; raw POSTs for what no SDK sends:
 * ids that collide between clients, `Mcp-Method`/`Mcp-Name` headers that disagree with the body
 * (-32020 in enforce mode), a batch with a modern message, and `subscriptions/listen`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { approvals, pendingApprovals } from '../helpers/approvals.js';
import { fixtureServer, runCli, tempDir, writeConfig } from '../helpers/cli.js';
import { type RawHttpFront, withHttpFront } from '../helpers/http-front.js';
import { writeModernScenarioServer } from '../helpers/modern-conformance.js';

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const MODERN = { 'mcp-protocol-version': '2026-07-28' };
const call = (id: unknown, name: string, args: Record<string, unknown>, meta: Record<string, unknown> = META): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: meta } });
const callHeaders = (name: string) => ({ ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': name });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The tools of the calls the store recorded (a refused POST never reaches the interceptor, so it is not there). */
function recordedCalls(store: string): string[] {
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    // One row per call (docs/events.md#one-record-per-call).
    return db.prepare("SELECT tool FROM calls WHERE outcome = 'completed' ORDER BY ts, seq").pluck().all() as string[];
  } finally {
    db.close();
  }
}

function config(mode: 'monitor' | 'enforce'): { dir: string; file: string; store: string } {
  const dir = tempDir('ratri-modern-');
  dirs.push(dir);
  const store = join(dir, 'ratri.db');
  const file = writeConfig(dir, {
    agentKey: 'modern',
    serverName: 'dual',
    mode,
    store,
    approvalTimeoutMs: 20_000,
    upstream: { command: process.execPath, args: [fixtureServer('dual-era-server.mjs')] },
    guardrails: {
      rules: [
        { id: 'no-etc', tool: 'write_file', args: { path: { regex: '^/etc/' } }, decision: 'block', reason: 'system files' },
        { id: 'ask-home', tool: 'write_file', args: { path: { regex: '^/home/' } }, decision: 'require_approval' },
        { id: 'ask-confirm', tool: 'confirm_write', args: { path: { regex: '^/home/' } }, decision: 'require_approval' },
      ],
    },
  });
  return { dir, file, store };
}

async function v2Client(url: string, negotiation: 'pin' | 'auto'): Promise<Client> {
  const client = new Client(
    { name: 'modern-test', version: '1.0.0' },
    { versionNegotiation: negotiation === 'pin' ? { mode: { pin: '2026-07-28' } } : { mode: 'auto' } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const text = (result: unknown): string => ((result as { content?: Array<{ text?: string }> }).content ?? []).map((c) => c.text).join('');

describe.each(['pin', 'auto'] as const)('a v2 client (%s) over the HTTP front', (negotiation) => {
  it('monitor mode: lists and calls with 2026-07-28, without a session', async () => {
    const { dir, file } = config('monitor');
    await withHttpFront(file, dir, async ({ url, stderr }) => {
      const client = await v2Client(url, negotiation);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
        const tools = await client.listTools();
        expect(tools.tools.map((t) => t.name).sort()).toEqual(['confirm_write', 'echo', 'write_file']);
        expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hello' } }))).toBe('hello');
        // monitor: the rule matches, the call goes through
        expect(text(await client.callTool({ name: 'write_file', arguments: { path: '/etc/passwd', content: 'x' } }))).toBe(
          'wrote 1 bytes to /etc/passwd',
        );
      } finally {
        await client.close();
      }
      expect(stderr()).toContain('2026-07-28 requests share one upstream');
    });
  });

  it('enforce mode: a blocked call is refused, a held call runs once approved', async () => {
    const { dir, file, store } = config('enforce');
    await withHttpFront(file, dir, async ({ url }) => {
      const client = await v2Client(url, negotiation);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
        expect(text(await client.callTool({ name: 'echo', arguments: { text: 'through' } }))).toBe('through');
        // A 2026-07-28 refusal is a tool result with isError (docs/protocol-eras.md); the upstream never ran it.
        const blocked = (await client.callTool({ name: 'write_file', arguments: { path: '/etc/hosts' } })) as { isError?: boolean };
        expect(blocked.isError).toBe(true);
        expect(JSON.stringify(blocked)).toContain('system files');
        expect(text(blocked)).not.toContain('wrote');
        const held = client.callTool({ name: 'write_file', arguments: { path: '/home/u/notes', content: 'abc' } });
        let approved = await runCli(['approvals', 'approve', '--last', '--store', store]);
        for (let i = 0; i < 100 && approved.code !== 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
          approved = await runCli(['approvals', 'approve', '--last', '--store', store]);
        }
        expect(approved.code, approved.stderr).toBe(0);
        expect(text(await held)).toBe('wrote 3 bytes to /home/u/notes');
      } finally {
        await client.close();
      }
    });
  });
});

describe('a multi round-trip call over the HTTP front (v2 client pinned to 2026-07-28, enforce)', () => {
  it('asks for approval once: the retry with the answers passes without a second hold', async () => {
    const { dir, file, store } = config('enforce');
    await withHttpFront(file, dir, async ({ url }) => {
      const client = new Client(
        { name: 'modern-test', version: '1.0.0' },
        { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      let elicitations = 0;
      client.setRequestHandler('elicitation/create', async () => {
        elicitations++;
        return { action: 'accept' as const, content: { confirm: true } };
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      try {
        const answer = client.callTool({ name: 'confirm_write', arguments: { path: '/home/u/c' } });
        const [approval] = await pendingApprovals(store);
        expect((await approvals(store, 'approve', approval!.id)).code).toBe(0);
        expect(text(await answer)).toBe('confirmed write to /home/u/c');
        expect(elicitations).toBe(1);
        const all = JSON.parse((await approvals(store, 'list', '--status', 'all', '--json')).stdout) as Array<{ id: string }>;
        expect(all.map((a) => a.id)).toEqual([approval!.id]);
      } finally {
        await client.close();
      }
    });
  });
});

describe('raw 2026-07-28 POSTs', () => {
  let store = '';
  const withFront = (mode: 'monitor' | 'enforce', work: (front: RawHttpFront) => Promise<void>) => {
    const made = config(mode);
    store = made.store;
    return withHttpFront(made.file, made.dir, work);
  };

  it('two clients using the same id at once each get their own answer, with their id as they wrote it', async () => {
    await withFront('enforce', async ({ post }) => {
      const answers = await Promise.all(
        ['a', 'b', 'c', 'd'].map((t, i) => post(call(i % 2 === 0 ? 1 : 1.0, 'echo', { text: t }), undefined, callHeaders('echo'))),
      );
      answers.forEach((a, i) => {
        expect(a.status).toBe(200);
        expect(a.session).toBeUndefined();
        expect(a.answers).toHaveLength(1);
        expect(a.answers[0]).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: ['a', 'b', 'c', 'd'][i] }] } });
      });
    });
  });

  it('the answer carries the id byte for byte (1.0 stays 1.0, "x" stays "x")', async () => {
    await withFront('monitor', async ({ url }) => {
      for (const id of ['1.0', '"x"', '-0', '1e2']) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...callHeaders('echo') },
          body: call(999, 'echo', { text: 'id' }).replace('"id":999', `"id":${id}`),
        });
        const body = await res.text();
        expect(body).toContain(`"id":${id}`);
        expect(body).not.toContain('ratri-');
      }
    });
  });

  it('enforce mode refuses headers that disagree with the body with -32020, and forwards nothing', async () => {
    await withFront('enforce', async ({ post, stderr }) => {
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ ...MODERN, 'mcp-method': 'tools/list', 'mcp-name': 'echo' }, /Mcp-Method header is "tools\/list"/],
        [{ ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, /Mcp-Name header names "echo" but the body carries "write_file"/],
        [{ ...MODERN, 'mcp-method': 'tools/call' }, /required Mcp-Name header is missing/],
        [{ ...MODERN, 'mcp-name': 'write_file' }, /required Mcp-Method header is missing/],
        [{ 'mcp-method': 'tools/call', 'mcp-name': 'write_file' }, /required MCP-Protocol-Version header is missing/],
        [
          { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/call', 'mcp-name': 'write_file' },
          /MCP-Protocol-Version header is "2025-11-25"/,
        ],
        [{ ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': '=?base64?d3JpdGVfZmlsZQ?=' }, /not valid =\?base64\?/],
      ];
      for (const [headers, reason] of cases) {
        const refused = await post(call(5, 'write_file', { path: '/tmp/x', content: 'no' }), undefined, headers);
        expect(refused.status).toBe(400);
        expect(refused.answers).toEqual([{ jsonrpc: '2.0', id: 5, error: { code: -32020, message: expect.stringMatching(reason) } }]);
      }
      // The base64 form of the right name is accepted.
      const encoded = await post(call(6, 'write_file', { path: '/tmp/x', content: 'ok' }), undefined, {
        ...callHeaders('write_file'),
        'mcp-name': `=?base64?${Buffer.from('write_file').toString('base64')}?=`,
      });
      expect(encoded.answers[0]).toMatchObject({ id: 6, result: { content: [{ text: 'wrote 2 bytes to /tmp/x' }] } });
      expect(stderr().match(/refused a POST whose headers disagree/g)).toHaveLength(cases.length);
    });
    expect(recordedCalls(store)).toEqual(['dual.write_file']); // only the call whose headers agreed
  });

  it('monitor mode logs a header mismatch and forwards the POST', async () => {
    await withFront('monitor', async ({ post, stderr }) => {
      const answered = await post(call(5, 'write_file', { path: '/tmp/y', content: 'yes' }), undefined, callHeaders('echo'));
      expect(answered.status).toBe(200);
      expect(answered.answers[0]).toMatchObject({ id: 5, result: { content: [{ text: 'wrote 3 bytes to /tmp/y' }] } });
      expect(stderr()).toContain('monitor mode: forwarded a POST whose headers disagree with its body');
      expect(stderr()).toContain('the Mcp-Name header names "echo" but the body carries "write_file"');
    });
  });

  it('a 2025-era session keeps working next to 2026-07-28 requests, and its headers are checked when present', async () => {
    await withFront('enforce', async ({ post, initialize }) => {
      const session = await initialize();
      expect(session).toBeDefined();
      const legacy = await post(
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"old"}}}',
        session,
      );
      expect(legacy.answers[0]).toMatchObject({ id: 2, result: { content: [{ text: 'old' }] } });
      const modern = await post(call(2, 'echo', { text: 'new' }), undefined, callHeaders('echo'));
      expect(modern.answers[0]).toMatchObject({ id: 2, result: { content: [{ text: 'new' }] } });
      const mismatched = await post(
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}',
        session,
        {
          'mcp-method': 'tools/list',
        },
      );
      expect(mismatched.status).toBe(400);
      expect(mismatched.answers[0]).toMatchObject({ id: 3, error: { code: -32020 } });
    });
  });

  it("events and approvals record each request's own id and protocol version, in both eras", async () => {
    await withFront('enforce', async ({ post, initialize }) => {
      const session = await initialize(); // protocolVersion 2025-06-18
      const legacy = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"old"}}}';
      expect((await post(legacy, session)).answers[0]).toMatchObject({ id: 2 });
      const modern = await post(call('client-7', 'echo', { text: 'new' }), undefined, callHeaders('echo'));
      expect(modern.answers[0]).toMatchObject({ id: 'client-7', result: { content: [{ text: 'new' }] } });
      const held = post(call('mine-9', 'write_file', { path: '/home/u/a', content: 'x' }), undefined, callHeaders('write_file'));
      const [approval] = await pendingApprovals(store);
      expect(approval).toMatchObject({ requestId: '"mine-9"', arguments: { path: '/home/u/a' } });
      expect((await approvals(store, 'approve', approval!.id)).code).toBe(0);
      expect((await held).answers[0]).toMatchObject({ id: 'mine-9', result: { content: [{ text: 'wrote 1 bytes to /home/u/a' }] } });
    });
    const listed = await runCli(['events', '--store', store, '--json']);
    const events = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const calls = events.filter((e) => e.type.startsWith('agent.'));
    expect(calls.some((e) => JSON.stringify(e).includes('ratri-'))).toBe(false);
    const byId = (id: string) => calls.filter((e) => e.data.requestId === id);
    expect(byId('2').length).toBeGreaterThan(1);
    expect(byId('"client-7"').length).toBeGreaterThan(1);
    expect(byId('"mine-9"').map((e) => e.type)).toContain('agent.approval.requested');
    for (const e of byId('2')) expect(e.data.protocolVersion).toBe('2025-06-18');
    for (const e of [...byId('"client-7"'), ...byId('"mine-9"')]) expect(e.data.protocolVersion).toBe('2026-07-28');
  });

  it("an approved round's retry goes through only for the client it was answered to, not for one replaying tool, arguments and requestState", async () => {
    const meta = { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
    const args = { path: '/home/u/r' };
    const inputResponses = { confirm: { action: 'accept', content: { confirm: true } } };
    const retry = (id: number, requestState: string) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'confirm_write', arguments: args, inputResponses, requestState, _meta: meta },
      });
    await withFront('enforce', async ({ post }) => {
      const first = post(call(1, 'confirm_write', args, meta), undefined, callHeaders('confirm_write'));
      const [approval] = await pendingApprovals(store);
      expect((await approvals(store, 'approve', approval!.id)).code).toBe(0);
      const asked = (await first).answers[0]!.result as { resultType: string; requestState: string };
      expect(asked.resultType).toBe('input_required');
      // The client gets a requestState of the front's, not the upstream's guessable one.
      expect(asked.requestState).toMatch(/^ratri-round:/);

      // Another client replays the call with the upstream's own requestState: judged afresh, held.
      void post(retry(1, 'confirm-write:/home/u/r'), undefined, callHeaders('confirm_write')).catch(() => undefined);
      const pending = await pendingApprovals(store);
      expect(pending).toMatchObject([{ requestId: '1', arguments: args }]);
      expect(pending[0]!.id).not.toBe(approval!.id);

      // The client the round was answered to retries with its token: forwarded at once, unheld.
      const done = await post(retry(2, asked.requestState), undefined, callHeaders('confirm_write'));
      expect(done.answers[0]).toMatchObject({ id: 2, result: { content: [{ text: 'confirmed write to /home/u/r' }] } });
      // Its token works once: replaying it is a new call, held too.
      void post(retry(3, asked.requestState), undefined, callHeaders('confirm_write')).catch(() => undefined);
      expect((await pendingApprovals(store, 2)).map((a) => a.requestId).sort()).toEqual(['1', '3']);
    });
  });

  it('tools/list results with ttlMs and cacheScope register the tools', async () => {
    await withFront('enforce', async ({ post }) => {
      const listed = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } }), undefined, {
        ...MODERN,
        'mcp-method': 'tools/list',
      });
      expect(listed.answers[0]!.result).toMatchObject({ ttlMs: expect.any(Number), cacheScope: expect.any(String) });
    });
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT server_name, name FROM tools ORDER BY name').all();
      expect(rows).toEqual(['confirm_write', 'echo', 'write_file'].map((name) => ({ server_name: 'dual', name })));
    } finally {
      db.close();
    }
  });

  it('request-scoped notifications stay on their request: log messages, and progress when two clients use the same id and token', async () => {
    const dir = tempDir('ratri-modern-progress-');
    dirs.push(dir);
    const server = writeModernScenarioServer(dir);
    const file = writeConfig(dir, {
      agentKey: 'modern',
      serverName: 'scenarios',
      mode: 'enforce',
      store: join(dir, 'ratri.db'),
      upstream: { command: process.execPath, args: [server, 'stdio'] },
    });
    await withHttpFront(file, dir, async ({ post }) => {
      // A log message is tied to no request by its content: it goes to the one request in flight.
      const logged = await post(call(7, 'test_tool_with_logging', {}, { ...META, 'io.modelcontextprotocol/logLevel': 'info' }), undefined, {
        ...callHeaders('test_tool_with_logging'),
      });
      expect(logged.messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.data)).toEqual([
        'tool started',
        'tool working',
        'tool done',
      ]);
      expect(logged.answers).toHaveLength(1);
      const body = call(1, 'test_tool_with_progress', {}, { ...META, progressToken: 1 });
      const [a, b] = await Promise.all([0, 1].map(() => post(body, undefined, callHeaders('test_tool_with_progress'))));
      for (const answer of [a!, b!]) {
        const progress = answer.messages.filter((m) => m.method === 'notifications/progress');
        expect(progress.map((m) => [m.params.progressToken, m.params.progress])).toEqual([
          [1, 0],
          [1, 50],
          [1, 100],
        ]);
        expect(answer.answers).toEqual([
          expect.objectContaining({ id: 1, result: expect.objectContaining({ content: [{ type: 'text', text: 'progressed' }] }) }),
        ]);
      }
    });
  });

  it('a batch holding a 2026-07-28 message is refused', async () => {
    await withFront('monitor', async ({ post }) => {
      const refused = await post(`[${call(1, 'echo', { text: 'a' })}]`, undefined, MODERN);
      expect(refused.status).toBe(400);
      expect(refused.answers[0]).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining('batch') } });
    });
  });

  it('subscriptions/listen: the acknowledgement comes on its stream, tagged with the client id', async () => {
    await withFront('enforce', async ({ url }) => {
      const controller = new AbortController();
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...MODERN,
          'mcp-method': 'subscriptions/listen',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'listen-1',
          method: 'subscriptions/listen',
          params: { _meta: META, notifications: { toolsListChanged: true } },
        }),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes('\n\n')) seen += new TextDecoder().decode((await reader.read()).value);
      const ack = JSON.parse(/data: (.*)/.exec(seen)![1]!) as { method: string; params: { _meta: Record<string, unknown> } };
      expect(ack.method).toBe('notifications/subscriptions/acknowledged');
      expect(ack.params._meta['io.modelcontextprotocol/subscriptionId']).toBe('listen-1');
      controller.abort();
    });
  });
});
