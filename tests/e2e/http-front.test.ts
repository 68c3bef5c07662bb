/**
 * `ratri mcp proxy --transport http|sse`: the built CLI serves MCP over Streamable HTTP and legacy
 * SSE, one upstream (@modelcontextprotocol/server-everything) per session, with the full
 * interceptor in between; the official SDK clients drive it, raw HTTP checks the refusals.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect as connectTcp, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, everythingServer, fixtureServer, isAlive, ProxyProcess, runCli, tempDir, writeConfig } from '../helpers/cli.js';
import { callError, textOf } from '../helpers/sdk.js';

const BLOCK_GET_ENV = { id: 'no-env-dump', tool: 'get-env', decision: 'block' };
const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const ACCEPT_BOTH = 'application/json, text/event-stream';

interface Front {
  child: ChildProcessWithoutNullStreams;
  port: number;
  base: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The store the config names (unless a test's config overrides it). */
  store: string;
}

/** How many of a process's open file descriptors are the given file. */
function openHandles(pid: number, file: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** How many `agent.tool.completed` events of the echo tool the store holds. */
function completedEchoes(store: string): number {
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return (
      // One row per call (docs/events.md#one-record-per-call).
      (db.prepare("SELECT count(*) AS n FROM calls WHERE outcome = 'completed' AND tool = 'everything.echo'").get() as { n: number }).n
    );
  } finally {
    db.close();
  }
}

const dirs: string[] = [];
const fronts: Front[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const f of fronts.splice(0)) {
    const kids = childPids(f.child.pid!);
    if (f.child.exitCode === null && f.child.signalCode === null) f.child.kill('SIGKILL');
    for (const pid of kids) if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Live (non-zombie) child processes of `pid`, from /proc. */
function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && fields[0] !== 'Z') kids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the built CLI with `--port 0` and waits for its "serving" line. */
async function startFront(
  args: string[] = [],
  options: { config?: Record<string, unknown>; env?: Record<string, string>; serving?: RegExp } = {},
): Promise<Front> {
  const dir = tempDir('ratri-http-');
  dirs.push(dir);
  const config = writeConfig(dir, {
    agentKey: 'http-test',
    serverName: 'everything',
    mode: 'enforce',
    store: join(dir, 'ratri.db'),
    upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
    guardrails: { rules: [BLOCK_GET_ENV] },
    ...options.config,
  });
  const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http,sse', '--port', '0', ...args], {
    env: { ...process.env, RATRI_HOME: dir, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  const front: Front = { child, port: 0, base: '', stderr: () => stderr, exited, store: join(dir, 'ratri.db') };
  fronts.push(front);
  const serving =
    options.serving ??
    /serving MCP over Streamable HTTP at http:\/\/127\.0\.0\.1:(\d+)\/mcp and legacy SSE at http:\/\/127\.0\.0\.1:\d+\/sse/;
  await until('the serving line', () => serving.test(stderr) || child.exitCode !== null);
  const port = Number(serving.exec(stderr)?.[1]);
  expect(port, stderr).toBeGreaterThan(0);
  front.port = port;
  front.base = `http://127.0.0.1:${port}`;
  return front;
}

async function connect(
  front: Front,
  kind: 'http' | 'sse',
  headers: Record<string, string> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport | SSEClientTransport }> {
  const transport =
    kind === 'http'
      ? new StreamableHTTPClientTransport(new URL(`${front.base}/mcp`), { requestInit: { headers } })
      : new SSEClientTransport(new URL(`${front.base}/sse`), { requestInit: { headers } });
  const client = new Client({ name: 'http-front-test', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return { client, transport };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (node:http, so Host and Origin can be anything). */
function raw(
  front: Front,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: front.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends a request and resolves with its status as soon as the answer starts (an SSE stream never ends), then hangs up. */
function statusOf(front: Front, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: front.port, method, path, headers }, (res) => {
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

const post = (front: Front, message: unknown, headers: Record<string, string> = {}): Promise<RawResponse> =>
  raw(
    front,
    'POST',
    '/mcp',
    { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...headers },
    typeof message === 'string' ? message : JSON.stringify(message),
  );

/** The events of an SSE body: id and data of each. */
function sseEvents(body: string): Array<{ id?: string; event?: string; data: string }> {
  return body
    .split('\n\n')
    .filter((block) => /^data:/m.test(block))
    .map((block) => {
      const field = (name: string): string | undefined => new RegExp(`^${name}: ?(.*)$`, 'm').exec(block)?.[1];
      return { id: field('id'), event: field('event'), data: field('data') ?? '' };
    });
}

function expectRefusal(res: RawResponse, status: number): void {
  expect(res.status, res.body).toBe(status);
  const body = JSON.parse(res.body) as { jsonrpc: string; error: { code: number; message: string }; id: null };
  expect(body.jsonrpc).toBe('2.0');
  expect(body.id).toBeNull();
  expect(body.error.message.length).toBeGreaterThan(5);
}

/** A raw session: initialize + initialized; returns its id. */
async function rawSession(front: Front, headers: Record<string, string> = {}): Promise<string> {
  const init = await post(front, INIT, headers);
  expect(init.status, init.body).toBe(200);
  const id = init.headers['mcp-session-id'] as string;
  expect(id).toMatch(/^[\x21-\x7e]+$/);
  const done = await post(front, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'Mcp-Session-Id': id, ...headers });
  expect(done.status).toBe(202);
  return id;
}

describe('ratri mcp proxy --transport http,sse', () => {
  for (const kind of ['http', 'sse'] as const) {
    it(`relays a full SDK session over ${kind === 'http' ? 'Streamable HTTP' : 'legacy SSE'} and enforces the rules`, async () => {
      const front = await startFront();
      const { client } = await connect(front, kind);
      expect(client.getServerVersion()?.name).toContain('everything');
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-env']));
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over http' } }))).toBe('Echo: over http');
      const refused = await callError(client.callTool({ name: 'get-env', arguments: {} }));
      expect(refused.code).toBe(-32001);
      // Progress notifications of a call reach the client while the call runs.
      const progress: number[] = [];
      const long = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      expect(textOf(long)).toContain('Long running operation completed');
      // The upstream may send its last progress after its answer (stdio shows the same), so that one may miss.
      expect(progress.length).toBeGreaterThanOrEqual(2);
      expect(progress).toEqual([1, 2, 3].slice(0, progress.length));
      expect(childPids(front.child.pid!)).toHaveLength(1);
    });
  }

  it('gives each session its own upstream process, and DELETE stops it', async () => {
    const front = await startFront();
    const a = await connect(front, 'http');
    const pidsAfterA = childPids(front.child.pid!);
    const b = await connect(front, 'http');
    const pids = childPids(front.child.pid!);
    expect(pidsAfterA).toHaveLength(1);
    expect(pids).toHaveLength(2);
    expect((a.transport as StreamableHTTPClientTransport).sessionId).not.toBe((b.transport as StreamableHTTPClientTransport).sessionId);
    // Both work at once, each through its own upstream.
    const [ra, rb] = await Promise.all([
      a.client.callTool({ name: 'echo', arguments: { message: 'a' } }),
      b.client.callTool({ name: 'echo', arguments: { message: 'b' } }),
    ]);
    expect([textOf(ra), textOf(rb)]).toEqual(['Echo: a', 'Echo: b']);
    // The sessions share the front's one store connection rather than opening one each.
    expect(openHandles(front.child.pid!, front.store)).toBe(1);

    const sessionA = (a.transport as StreamableHTTPClientTransport).sessionId!;
    await (a.transport as StreamableHTTPClientTransport).terminateSession();
    await until('one upstream left', () => childPids(front.child.pid!).length === 1);
    expect(isAlive(pidsAfterA[0]!)).toBe(false); // A's own upstream is the one that stopped
    expect(childPids(front.child.pid!)).toEqual(pids.filter((p) => p !== pidsAfterA[0]));
    const after = await post(front, { jsonrpc: '2.0', id: 9, method: 'ping' }, { 'Mcp-Session-Id': sessionA });
    expectRefusal(after, 404);
    expect(textOf(await b.client.callTool({ name: 'echo', arguments: { message: 'still' } }))).toBe('Echo: still');
    // A's end did not close the shared control plane: B's later call is stored too (3 echo calls in all).
    await until('three stored echo calls', () => completedEchoes(front.store) === 3);
  });

  it('refuses foreign origins (403), foreign Host headers (421), and accepts loopback origins', async () => {
    const front = await startFront();
    expectRefusal(await post(front, INIT, { Origin: 'https://evil.example' }), 403);
    expectRefusal(await post(front, INIT, { Host: 'evil.example' }), 421);
    expectRefusal(await raw(front, 'GET', '/sse', { Origin: 'http://attacker.localhost.example', Accept: 'text/event-stream' }), 403);
    const ok = await post(front, INIT, { Origin: 'http://localhost:5173' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('accepts an origin named with --allowed-origin', async () => {
    const front = await startFront(['--allowed-origin', 'https://app.example.com']);
    expect((await post(front, INIT, { Origin: 'https://app.example.com' })).status).toBe(200);
    expectRefusal(await post(front, INIT, { Origin: 'https://other.example.com' }), 403);
  });

  it('requires the bearer token from --auth-token-env (401 without it or with a wrong one)', async () => {
    const front = await startFront(['--auth-token-env', 'RATRI_TEST_TOKEN'], { env: { RATRI_TEST_TOKEN: 's3cret-token' } });
    const missing = await post(front, INIT);
    expectRefusal(missing, 401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expectRefusal(await post(front, INIT, { Authorization: 'Bearer wrong-token' }), 401);
    expectRefusal(await raw(front, 'GET', '/sse', { Accept: 'text/event-stream' }), 401);
    for (const kind of ['http', 'sse'] as const) {
      const { client } = await connect(front, kind, { Authorization: 'Bearer s3cret-token' });
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: kind } }))).toBe(`Echo: ${kind}`);
    }
  });

  it('refuses bodies over maxFrameBytes (413), unknown sessions (404), and malformed requests', async () => {
    const front = await startFront([], { config: { maxFrameBytes: 2048 } });
    const id = await rawSession(front);
    const big = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(4000) } } };
    const tooBig = await post(front, big, { 'Mcp-Session-Id': id });
    expectRefusal(tooBig, 413);
    expect(JSON.parse(tooBig.body).error.message).toBe('Payload Too Large: the body exceeds 2048 bytes (maxFrameBytes in the config)');
    const unknown = await post(front, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'Mcp-Session-Id': 'no-such-session' });
    expectRefusal(unknown, 404);
    const unknownSse = await raw(front, 'POST', '/messages?sessionId=no-such-session', { 'Content-Type': 'application/json' }, '{}');
    expectRefusal(unknownSse, 404);
    // Its own code (docs/errors.md), not -32001, which means "blocked by guardrail".
    expect([JSON.parse(unknown.body).error.code, JSON.parse(unknownSse.body).error.code]).toEqual([-32003, -32003]);
    expectRefusal(await post(front, { jsonrpc: '2.0', id: 3, method: 'ping' }), 400); // no Mcp-Session-Id
    expectRefusal(
      await post(front, { jsonrpc: '2.0', id: 4, method: 'ping' }, { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': '1999-01-01' }),
      400,
    );
    expectRefusal(await post(front, '{"jsonrpc":', { 'Mcp-Session-Id': id }), 400);
    expectRefusal(await post(front, { jsonrpc: '2.0', id: 5, method: 'ping' }, { 'Mcp-Session-Id': id, Accept: 'application/json' }), 406);
    expectRefusal(await raw(front, 'GET', '/mcp', { 'Mcp-Session-Id': id, Accept: 'application/json' }), 406);
    expectRefusal(await raw(front, 'PUT', '/mcp', { 'Mcp-Session-Id': id }), 405);
    // The session itself is still fine, and a body with raw newlines (pretty-printed JSON) is one message.
    const pretty = JSON.stringify(
      { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'echo', arguments: { message: 'a\nb' } } },
      null,
      2,
    ).replace(/\n/g, '\r\n');
    const answered = await post(front, pretty, { 'Mcp-Session-Id': id });
    expect(answered.status).toBe(200);
    expect(answered.headers['content-type']).toBe('text/event-stream');
    // server-everything may announce notifications/tools/list_changed at any time after initialize; with
    // no GET stream open, ratri delivers it on this POST stream (never drops it), so the answer is the
    // last event, possibly after such notifications.
    const messages = sseEvents(answered.body).map((e) => JSON.parse(e.data) as { id?: unknown; method?: string });
    expect(messages.at(-1)).toMatchObject({ id: 6, result: { content: [{ text: 'Echo: a\nb' }] } });
    for (const other of messages.slice(0, -1)) expect(other).toMatchObject({ method: expect.stringMatching(/^notifications\//) });
  });

  it('names the limit that applies when the config does not set maxFrameBytes (413)', async () => {
    const front = await startFront();
    const id = await rawSession(front);
    // Announced as 4 MiB + 1 and never sent: the 413 comes from Content-Length alone.
    const refused = await new Promise<RawResponse>((resolve, reject) => {
      const headers = {
        'Content-Type': 'application/json',
        Accept: ACCEPT_BOTH,
        'Mcp-Session-Id': id,
        'Content-Length': String(4 * 1024 * 1024 + 1),
      };
      const req = request({ host: '127.0.0.1', port: front.port, method: 'POST', path: '/mcp', headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.write('{');
    });
    expectRefusal(refused, 413);
    expect(JSON.parse(refused.body).error.message).toBe(
      'Payload Too Large: the body exceeds 4194304 bytes (the HTTP body limit while the config does not set maxFrameBytes; set maxFrameBytes to change it)',
    );
  });

  it("refuses what another site's page sends without Origin (Sec-Fetch-Site: cross-site): no session, no upstream", async () => {
    const front = await startFront();
    // What <img src="http://127.0.0.1:3100/sse"> on another site sends.
    const img = {
      Accept: 'image/avif,image/webp,*/*',
      'Sec-Fetch-Site': 'cross-site',
      'Sec-Fetch-Mode': 'no-cors',
      'Sec-Fetch-Dest': 'image',
    };
    expect(await statusOf(front, 'GET', '/sse', img)).toBe(403);
    expect(await statusOf(front, 'GET', '/sse', { ...img, 'Sec-Fetch-Site': 'same-site' })).toBe(403);
    expectRefusal(await post(front, INIT, { 'Sec-Fetch-Site': 'cross-site' }), 403);
    await new Promise((r) => setTimeout(r, 500));
    expect(childPids(front.child.pid!)).toEqual([]);
    expect(front.stderr()).not.toMatch(/session [0-9a-f]{8}/);
    // A program (no Sec-Fetch-Site) still starts one.
    expect(await statusOf(front, 'GET', '/sse', { Accept: 'text/event-stream' })).toBe(200);
  });

  it('refuses a non-loopback --host without --auth-token-env (exit 2), and serves it with a token', async () => {
    const dir = tempDir('ratri-http-');
    dirs.push(dir);
    const config = writeConfig(dir, {
      agentKey: 't',
      store: join(dir, 'ratri.db'),
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
    });
    const open = await runCli(
      ['mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0', '--host', '0.0.0.0'],
      '',
      { RATRI_HOME: dir },
      10_000,
    );
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/refusing to serve on 0\.0\.0\.0 without --auth-token-env[\s\S]*fix: .*--auth-token-env RATRI_HTTP_TOKEN/);
    const front = await startFront(['--host', '0.0.0.0', '--auth-token-env', 'RATRI_TEST_TOKEN'], {
      env: { RATRI_TEST_TOKEN: 'tok' },
      serving: /serving MCP over Streamable HTTP at http:\/\/0\.0\.0\.0:(\d+)\/mcp/,
    });
    expect(front.port).toBeGreaterThan(0);
  });

  it('cuts off requests whose headers or body do not arrive within --request-timeout-ms, and leaves SSE streams open', async () => {
    const front = await startFront(['--request-timeout-ms', '1000']);
    const id = await rawSession(front);
    const stream = await holdResponse(front, 'GET', '/mcp', { Accept: 'text/event-stream', 'Mcp-Session-Id': id });
    const started = Date.now();
    // Headers that never end (slowloris).
    const socket = connectTcp(front.port, '127.0.0.1');
    let answered = '';
    socket.on('data', (c: Buffer) => (answered += c.toString('utf8')));
    socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${front.port}\r\nAccept: ${ACCEPT_BOTH}\r\n`);
    const headersCut = new Promise<number>((r) => socket.on('close', () => r(Date.now() - started)));
    // A body that stops after 10 of its 1000 bytes.
    const stalled = new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: front.port,
          method: 'POST',
          path: '/mcp',
          headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Mcp-Session-Id': id, 'Content-Length': '1000' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode!, body, ms: Date.now() - started }));
        },
      );
      req.on('error', reject);
      req.write('{"jsonrpc"');
    });
    const body = await stalled;
    expect(body.status, body.body).toBe(408);
    expect(JSON.parse(body.body).error.message).toMatch(/did not arrive within 1000 ms \(--request-timeout-ms\)/);
    expect(body.ms).toBeLessThan(4000);
    expect(await headersCut).toBeLessThan(4000);
    expect(answered).toMatch(/^HTTP\/1\.1 408/);
    // The GET stream opened before is still open, well past the limit, and the session still works.
    await new Promise((r) => setTimeout(r, Math.max(0, 2500 - (Date.now() - started))));
    expect(stream.res.complete).toBe(false);
    expect(stream.res.destroyed).toBe(false);
    const ping = await post(front, { jsonrpc: '2.0', id: 5, method: 'ping' }, { 'Mcp-Session-Id': id });
    expect(ping.status).toBe(200);
    stream.res.destroy();
  });

  it('ends idle sessions after 5 minutes by default, and never while a request is unanswered', async () => {
    const defaults = await startFront();
    // Written right after the serving line, in a write of its own: it may reach us a moment later.
    const idleLine = /a session with no request, stream or unanswered request for 300 s is ended \(--session-idle-ms\)/;
    await until('the idle line', () => idleLine.test(defaults.stderr()) || defaults.child.exitCode !== null);
    expect(defaults.stderr()).toMatch(idleLine);
    const front = await startFront(['--session-idle-ms', '400']);
    const id = await rawSession(front);
    // The client starts a 2 s call, then its connection drops: no stream is open, but the call is unanswered.
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'trigger-long-running-operation', arguments: { duration: 2, steps: 2 } },
    };
    const held = await holdResponse(
      front,
      'POST',
      '/mcp',
      { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Mcp-Session-Id': id },
      JSON.stringify(call),
    );
    held.res.destroy();
    await new Promise((r) => setTimeout(r, 1200)); // three times the idle limit
    expect(childPids(front.child.pid!)).toHaveLength(1);
    expect(front.stderr()).not.toMatch(/idle for \d+ ms; ending it/);
    // Once answered it is idle, and is ended; its upstream stops and its id is unknown.
    await until('the idle upstream to exit', () => childPids(front.child.pid!).length === 0, 15_000);
    expect(front.stderr()).toMatch(/idle for \d+ ms; ending it/);
    expectRefusal(await post(front, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'Mcp-Session-Id': id }), 404);
  });

  it('never sends an upstream line that is not JSON to an HTTP client; it goes to stderr (stdio relays it)', async () => {
    const noisy = {
      config: { upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] } },
      env: { TOOLS_SERVER_NOISE: '1' },
    };
    const front = await startFront([], noisy);
    const id = await rawSession(front);
    const answered = await post(
      front,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/a' } } },
      { 'Mcp-Session-Id': id },
    );
    expect(answered.body).not.toContain('tools-server:');
    expect(sseEvents(answered.body).map((e) => JSON.parse(e.data))).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'called read_file' }] } },
    ]);
    // Legacy SSE: the stream carries the endpoint and JSON messages only.
    const stream = await holdResponse(front, 'GET', '/sse', { Accept: 'text/event-stream' }, undefined, 'event: endpoint');
    stream.res.resume();
    const endpoint = /data: (\/messages\?sessionId=\S+)/.exec(stream.text())![1]!;
    for (const message of [
      INIT,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ]) {
      expect((await raw(front, 'POST', endpoint, { 'Content-Type': 'application/json' }, JSON.stringify(message))).status).toBe(202);
    }
    await stream.until('"delete_file"');
    const events = sseEvents(stream.text());
    expect(events.map((e) => e.event)).toEqual(['endpoint', 'message', 'message']);
    for (const e of events.slice(1)) expect(() => JSON.parse(e.data)).not.toThrow();
    stream.res.destroy();
    await until(
      'the warnings',
      () =>
        (front.stderr().match(/the upstream wrote a line that is not JSON on stdout; not sent to the client: "tools-server: /g) ?? [])
          .length >= 5,
    );
    // stdio relays the same lines as they are.
    const dir = tempDir('ratri-http-');
    dirs.push(dir);
    const config = writeConfig(dir, { agentKey: 't', store: join(dir, 'ratri.db'), upstream: noisy.config.upstream });
    const stdio = new ProxyProcess(['--config', config], { RATRI_HOME: dir, TOOLS_SERVER_NOISE: '1' });
    try {
      stdio.send(INIT);
      await stdio.response(0);
      expect(stdio.unread).toContain('tools-server: answering initialize');
    } finally {
      stdio.child.kill('SIGKILL');
      await stdio.exited;
    }
  });

  it('replays a stream from Last-Event-ID', async () => {
    const front = await startFront();
    const id = await rawSession(front);
    const first = await post(
      front,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'one' } } },
      { 'Mcp-Session-Id': id },
    );
    const events = sseEvents(first.body);
    expect(events.map((e) => JSON.parse(e.data).id)).toContain(1);
    for (const e of events) expect(e.id).toMatch(/^p\d+-\d+$/);
    // Resume that POST stream from its start: every event of it comes again, same ids, same bytes.
    const stream = events[0]!.id!.split('-')[0];
    const replay = await raw(front, 'GET', '/mcp', { 'Mcp-Session-Id': id, Accept: 'text/event-stream', 'Last-Event-ID': `${stream}-0` });
    expect(replay.status).toBe(200);
    expect(sseEvents(replay.body)).toEqual(events);
    // From its last event: nothing more.
    const none = await raw(front, 'GET', '/mcp', {
      'Mcp-Session-Id': id,
      Accept: 'text/event-stream',
      'Last-Event-ID': events.at(-1)!.id!,
    });
    expect(sseEvents(none.body)).toEqual([]);
    expectRefusal(await raw(front, 'GET', '/mcp', { 'Mcp-Session-Id': id, Accept: 'text/event-stream', 'Last-Event-ID': 'garbage' }), 400);
  });

  it('reaps idle sessions after --session-idle-ms and stops their upstream', async () => {
    const front = await startFront(['--session-idle-ms', '400']);
    const { client, transport } = await connect(front, 'http');
    const sessionId = (transport as StreamableHTTPClientTransport).sessionId!;
    expect(childPids(front.child.pid!)).toHaveLength(1);
    await client.close(); // goes away without DELETE: only the idle reaper can end the session
    await until('the idle upstream to exit', () => childPids(front.child.pid!).length === 0);
    expect(front.stderr()).toMatch(/idle for \d+ ms; ending it/);
    expectRefusal(await post(front, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'Mcp-Session-Id': sessionId }), 404);
  });

  it('answers 503 when --max-sessions are open', async () => {
    const front = await startFront(['--max-sessions', '1']);
    const { transport } = await connect(front, 'http');
    const full = await post(front, INIT);
    expectRefusal(full, 503);
    expect(JSON.parse(full.body).error.message).toMatch(/max-sessions/);
    expectRefusal(await raw(front, 'GET', '/sse', { Accept: 'text/event-stream' }), 503);
    expect(childPids(front.child.pid!)).toHaveLength(1);
    await (transport as StreamableHTTPClientTransport).terminateSession();
    expect((await post(front, INIT)).status).toBe(200);
  });

  it('stops every session and leaves no child process on SIGTERM', async () => {
    const front = await startFront();
    await connect(front, 'http');
    await connect(front, 'sse');
    const pids = childPids(front.child.pid!);
    expect(pids).toHaveLength(2);
    front.child.kill('SIGTERM');
    const exit = await front.exited;
    expect(exit.code).toBe(128 + 15);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('fails with a clear message and exit code 1 when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dir = tempDir('ratri-http-');
      dirs.push(dir);
      const config = writeConfig(dir, {
        agentKey: 't',
        store: join(dir, 'ratri.db'),
        upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
      });
      const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', String(port)], {
        env: { ...process.env, RATRI_HOME: dir },
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
    } finally {
      blocker.close();
    }
  });
});

/** A response read into memory, which the test can stop reading (pause) and start again. */
interface HeldStream {
  res: IncomingMessage;
  /** Everything read so far (joined on each call: call it once the reading is done). */
  text: () => string;
  /** Waits until `needle` has been read. */
  until: (needle: string, timeoutMs?: number) => Promise<void>;
}

/**
 * Sends a request and keeps its response, read until `pauseAfter` appears in it (if given), then
 * paused. Each chunk is looked at once (with the end of the one before), so reading tens of MiB
 * costs the test little.
 */
function holdResponse(
  front: Front,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  pauseAfter?: string,
): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: front.port, method, path, headers }, (res) => {
      const parts: string[] = [];
      const decoder = new StringDecoder('utf8');
      const watched = new Map<string, boolean>(pauseAfter === undefined ? [] : [[pauseAfter, false]]);
      const waiters: Array<() => void> = [];
      let carry = '';
      const held: HeldStream = {
        res,
        text: () => parts.join(''),
        until: async (needle, timeoutMs = 30_000) => {
          if (!watched.has(needle)) watched.set(needle, parts.join('').includes(needle));
          const deadline = Date.now() + timeoutMs;
          while (!watched.get(needle)) {
            if (Date.now() > deadline) throw new Error(`"${needle}" did not arrive within ${timeoutMs} ms (${parts.length} chunks read)`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, 200);
              waiters.push(() => {
                clearTimeout(t);
                r();
              });
            });
          }
        },
      };
      let resolved = false;
      res.on('data', (c: Buffer) => {
        const part = decoder.write(c);
        parts.push(part);
        const window = carry + part;
        for (const [needle, seen] of watched) if (!seen && window.includes(needle)) watched.set(needle, true);
        carry = window.slice(-256);
        for (const w of waiters.splice(0)) w();
        if (!resolved && watched.get(pauseAfter!)) {
          resolved = true;
          res.pause();
          resolve(held);
        }
      });
      if (pauseAfter === undefined) {
        resolved = true;
        res.pause();
        resolve(held);
      }
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The number the flood fixture last wrote to its progress file, once it has not changed for `quietMs`. */
async function settledProgress(file: string, quietMs = 1500, timeoutMs = 20_000): Promise<number> {
  const read = (): number => {
    try {
      return Number(readFileSync(file, 'utf8'));
    } catch {
      return -1;
    }
  };
  const deadline = Date.now() + timeoutMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (now > 0 && Date.now() - since >= quietMs) {
      return now;
    }
  }
  return last;
}

describe('backpressure towards a client that does not read', () => {
  const COUNT = 200;
  const BYTES = 256 * 1024; // 200 × 256 KiB = 50 MiB in all

  for (const kind of ['sse', 'http'] as const) {
    it(`over ${kind === 'http' ? 'Streamable HTTP' : 'legacy SSE'}: the upstream waits while the client does not read, and every message arrives once it does`, async () => {
      const progress = join(tempDir('ratri-flood-'), 'progress');
      dirs.push(dirname(progress));
      const front = await startFront([], {
        config: { upstream: { command: process.execPath, args: [fixtureServer('flood-server.mjs')] } },
        env: { FLOOD_PROGRESS: progress },
      });
      const flood = JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'flood', arguments: { count: COUNT, bytes: BYTES } },
      });
      let stream: HeldStream;
      if (kind === 'sse') {
        stream = await holdResponse(front, 'GET', '/sse', { Accept: 'text/event-stream' }, undefined, 'event: endpoint');
        const endpoint = /data: (\/messages\?sessionId=\S+)/.exec(stream.text())![1]!;
        const send = async (message: string): Promise<void> => {
          expect((await raw(front, 'POST', endpoint, { 'Content-Type': 'application/json' }, message)).status).toBe(202);
        };
        await send(JSON.stringify(INIT));
        await send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
        await send(flood);
      } else {
        const id = await rawSession(front);
        stream = await holdResponse(
          front,
          'POST',
          '/mcp',
          { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Mcp-Session-Id': id },
          flood,
        );
      }
      // Not reading: once the socket's and ratri's buffers are full, ratri stops taking the
      // upstream's output and the upstream's writes stop completing, far short of 50 MiB.
      const stalledAt = await settledProgress(progress);
      expect(stalledAt).toBeGreaterThan(0);
      expect(stalledAt).toBeLessThan(COUNT / 2);
      expect(front.child.exitCode).toBeNull();
      // Reading again: everything comes, in order, then the answer.
      stream.res.resume();
      await stream.until('flooded 200');
      const text = stream.text();
      const numbers = [...text.matchAll(/"data":"(\d+):/g)].map((m) => Number(m[1]));
      expect(numbers).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
      expect(readFileSync(progress, 'utf8')).toBe(String(COUNT));
      stream.res.destroy();
    }, 60_000);
  }
});

describe('backpressure towards a client that sends faster than the upstream reads', () => {
  it('answers 202 only once the upstream side has taken the message in, and delivers every message', async () => {
    const progress = join(tempDir('ratri-hold-'), 'progress');
    dirs.push(dirname(progress));
    const front = await startFront([], {
      config: { upstream: { command: process.execPath, args: [fixtureServer('flood-server.mjs')] } },
      env: { FLOOD_PROGRESS: progress },
    });
    const id = await rawSession(front);
    const session = { 'Mcp-Session-Id': id };
    const callTool = async (name: string, args: Record<string, unknown> = {}): Promise<string> => {
      const answer = await post(front, { jsonrpc: '2.0', id: name, method: 'tools/call', params: { name, arguments: args } }, session);
      return (JSON.parse(sseEvents(answer.body).at(-1)!.data) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text;
    };
    const HOLD_MS = 2500;
    expect(await callTool('hold_stdin', { ms: HOLD_MS })).toBe('holding');
    // 30 notifications of 1 MiB each, one after the other, each sent once the one before got its 202.
    const COUNT = 30;
    const big = 'x'.repeat(1024 * 1024);
    const answeredAt: number[] = [];
    for (let i = 0; i < COUNT; i++) {
      const r = await post(front, { jsonrpc: '2.0', method: 'notifications/bulk', params: { i, big } }, session);
      expect(r.status).toBe(202);
      answeredAt.push(Date.now());
    }
    const resumedAt = Number(readFileSync(`${progress}.resumed`, 'utf8'));
    // While the upstream did not read, only what fits in the pipe and ratri's small buffers was
    // taken; without backpressure all 30 MiB would have been answered at once, into memory.
    const early = answeredAt.filter((t) => t < resumedAt).length;
    expect(early).toBeLessThan(5);
    expect(await callTool('received')).toBe(`received ${COUNT + 1}`); // + notifications/initialized
  }, 30_000);
});
