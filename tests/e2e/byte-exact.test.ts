/**
 * Byte-exactness of the relay, end to end through the built CLI: whatever the host writes reaches
 * the upstream as the very same bytes, and whatever the upstream writes reaches the host as the very
 * same bytes; only frames the proxy synthesizes itself (enforce-mode refusals) are added.
 *
 * The upstream is fixtures/servers/byte-recorder.mjs: it appends every byte it reads to RECORD_FILE
 * and every byte it writes to SENT_FILE, and answers requests with deliberately odd JSON.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, ProxyProcess, tempDir, writeConfig } from '../helpers/cli.js';

type Mode = 'monitor' | 'enforce';
type Json = Record<string, unknown>;

const NEWLINE = 0x0a;
const recorder = fixtureServer('byte-recorder.mjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Splits bytes into lines, each keeping its `\n` (a last line without one is kept as is). */
function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
    lines.push(bytes.subarray(start, nl + 1));
    start = nl + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

function parseLine(line: Buffer): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every JSON-RPC message in a sequence of lines (batch elements flattened). */
function messagesOf(lines: Buffer[]): Json[] {
  const out: Json[] = [];
  for (const line of lines) {
    if (line[line.length - 1] !== NEWLINE) continue; // incomplete
    const value = parseLine(line);
    if (Array.isArray(value)) out.push(...value.filter(isObject));
    else if (isObject(value)) out.push(value);
  }
  return out;
}

const fileBytes = (path: string): Buffer => (existsSync(path) ? readFileSync(path) : Buffer.alloc(0));
const fileSize = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

/**
 * The host side of one proxy run: keeps every byte written to the proxy and every byte read from it
 * as raw Buffers (nothing is decoded per chunk, so a character split between chunks stays intact).
 */
class Session {
  readonly dir = tempDir('ratri-byte-exact-');
  readonly recordFile = join(this.dir, 'upstream-received.bin');
  readonly sentFile = join(this.dir, 'upstream-sent.bin');
  readonly proxy: ProxyProcess;
  /** What the host wrote, in order, and whether the upstream is expected to receive it. */
  readonly written: Array<{ bytes: Buffer; reachesUpstream: boolean }> = [];
  private readonly received: Buffer[] = [];

  constructor(mode: Mode) {
    const config = writeConfig(this.dir, {
      agentKey: 'byte-exact-test',
      serverName: 'recorder',
      mode,
      approvalTimeoutMs: 300,
      upstream: {
        command: process.execPath,
        args: [recorder],
        env: { RECORD_FILE: this.recordFile, SENT_FILE: this.sentFile },
      },
      guardrails: { rules: [{ id: 'no-forbidden', tool: 'forbidden-*', decision: 'block', reason: 'forbidden in tests' }] },
    });
    this.proxy = new ProxyProcess(['--config', config]);
    this.proxy.child.stdout.on('data', (chunk: Buffer) => this.received.push(chunk));
  }

  /** Everything the host has read from the proxy so far. */
  get hostReceived(): Buffer {
    return Buffer.concat(this.received);
  }

  get upstreamReceived(): Buffer {
    return fileBytes(this.recordFile);
  }

  get upstreamSent(): Buffer {
    return fileBytes(this.sentFile);
  }

  /** The bytes the upstream should have received: everything written that was not refused. */
  get expectedUpstream(): Buffer {
    return Buffer.concat(this.written.filter((w) => w.reachesUpstream).map((w) => w.bytes));
  }

  write(text: string | Buffer, reachesUpstream = true): Buffer {
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
    this.written.push({ bytes, reachesUpstream });
    this.proxy.child.stdin.write(bytes);
    return bytes;
  }

  /** Writes one frame in several writes, cut at the given byte offsets, `gapMs` apart. */
  async writeInPieces(text: string, cuts: number[], gapMs = 25): Promise<Buffer> {
    const bytes = Buffer.from(text, 'utf8');
    this.written.push({ bytes, reachesUpstream: true });
    const bounds = [0, ...cuts, bytes.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      this.proxy.child.stdin.write(bytes.subarray(bounds[i], bounds[i + 1]));
      if (i + 2 < bounds.length) await sleep(gapMs);
    }
    return bytes;
  }

  /** Waits for a complete message from the proxy that passes `match`. */
  async waitForMessage(what: string, match: (m: Json) => boolean, timeoutMs = 5000): Promise<Json> {
    let found: Json | undefined;
    await waitUntil(
      `${what}; stderr:\n${this.proxy.stderr}`,
      () => (found = messagesOf(splitLines(this.hostReceived)).find(match)) !== undefined,
      timeoutMs,
    );
    return found as Json;
  }

  response(id: unknown): Promise<Json> {
    return this.waitForMessage(`the answer to id ${JSON.stringify(id)}`, (m) => m.id === id && ('result' in m || 'error' in m));
  }

  /**
   * Waits (up to 3 s) until the upstream has received at least as many bytes as it should have. It
   * does not fail by itself: the byte comparison that follows shows what differs.
   */
  async upstreamCaughtUp(): Promise<void> {
    const expected = this.expectedUpstream.length;
    await waitUntil(`the upstream to receive ${expected} bytes`, () => fileSize(this.recordFile) >= expected, 3000).catch(() => undefined);
  }

  /** Closes the host side (optionally writing unterminated bytes first) and waits for the proxy to exit. */
  async end(tail?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (tail !== undefined) {
      const bytes = Buffer.from(tail, 'utf8');
      this.written.push({ bytes, reachesUpstream: true });
      this.proxy.child.stdin.end(bytes);
    } else {
      this.proxy.child.stdin.end();
    }
    return this.proxy.exited;
  }

  /** The host's bytes with the given synthesized lines removed (each must be a whole line). */
  hostReceivedWithout(isSynthesized: (line: Buffer) => boolean): { rest: Buffer; removed: Buffer[] } {
    const removed: Buffer[] = [];
    const kept: Buffer[] = [];
    for (const line of splitLines(this.hostReceived)) (isSynthesized(line) ? removed : kept).push(line);
    return { rest: Buffer.concat(kept), removed };
  }

  dispose(): void {
    if (this.proxy.child.exitCode === null && this.proxy.child.signalCode === null) this.proxy.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A line the proxy wrote itself: a JSON-RPC error answering `id` with `code`. */
const synthesizedError =
  (id: unknown, code: number) =>
  (line: Buffer): boolean => {
    const value = parseLine(line);
    return isObject(value) && value.id === id && isObject(value.error) && value.error.code === code;
  };

const sessions: Session[] = [];
function startSession(mode: Mode): Session {
  const session = new Session(mode);
  sessions.push(session);
  return session;
}

afterEach(async () => {
  for (const s of sessions.splice(0)) {
    s.dispose();
    await s.proxy.exited;
  }
});

// Host frames used below. Each is written exactly as shown (the `\n` / `\r\n` included).
const UNKNOWN_REQUEST =
  '{"jsonrpc":"2.0","id":1,"method":"x/unknown","params":{"a":1.0,"b":1e3,"c":-0.0,"s":"\\u00e9\\ud83d\\ude00 d\u00e9j\u00e0"}}\n';
const ODD_NOTIFICATION = '  { "method" : "notifications/custom" ,"params":{ "k" : [ 1 , 2.50 , 1E-2 ] }, "jsonrpc":"2.0"}   \n';
const PLAIN_BATCH =
  '[{"jsonrpc":"2.0","id":"b-1","method":"custom/one"} , {"jsonrpc":"2.0","method":"notifications/two"},' +
  '{"id":7,"jsonrpc":"2.0","method":"custom/three","params":{}}]\n';
const EMIT_REQUEST = '{"jsonrpc":"2.0","id":2,"method":"fixture/emit","params":{"gapMs":15}}\r\n';
const SAMPLING_ANSWER =
  '{"id":"srv-1" , "jsonrpc":"2.0","result":{"model":"m","role":"assistant","content":{"type":"text","text":"r\\u00e9ponse \u2713"},"stopReason":"endTurn"}}\n';
const SPLIT_REQUEST = '{"jsonrpc":"2.0","id":3,"method":"custom/split","params":{"text":"a\u20acb\ud83d\ude00c"}}\n';
const BLANK_LINE = '   \r\n';
const KEY_ORDER_CALL =
  '{"params":{"name":"echo","arguments":{"message":"caf\\u00e9 \u2713","n":1.0}},"method":"tools/call","id":"abc","jsonrpc":"2.0"}\n';
const ESCAPED_NAME_CALL =
  '{"jsonrpc":"2.0","id":42.0,"method":"tools/call","params":{"name":"\\u0065cho","arguments":{"message":"x"}}}\r\n';
const BLOCKED_CALL = '{"jsonrpc":"2.0","id":"blocked-1","method":"tools/call","params":{"name":"forbidden-tool","arguments":{}}}\n';
const NOT_JSON = 'this is not json {\n';
/** Not valid UTF-8: a Latin-1 "é" (0xE9) inside a string. */
const latin1 = (before: string, after: string): Buffer => Buffer.concat([Buffer.from(before), Buffer.from([0xe9]), Buffer.from(after)]);
const LATIN1_NOTIFICATION = latin1('{"jsonrpc":"2.0","method":"notifications/latin1","params":{"s":"caf', '"}}\n');
const LATIN1_CALL = latin1(
  '{"jsonrpc":"2.0","id":"latin1","method":"tools/call","params":{"name":"echo","arguments":{"message":"caf',
  '"}}}\n',
);
const UNTERMINATED_TAIL = '{"jsonrpc":"2.0","method":"notifications/tail"}';

/** Byte offsets inside `text` that cut each multi-byte character of `chars` after its first byte. */
function cutsInside(text: string, chars: string[]): number[] {
  const bytes = Buffer.from(text, 'utf8');
  return chars.map((c) => bytes.indexOf(Buffer.from(c, 'utf8')) + 1);
}

describe.each<Mode>(['monitor', 'enforce'])('byte-exact relay in %s mode', (mode) => {
  it('forwards every host frame to the upstream byte-for-byte and every upstream frame to the host byte-for-byte', async () => {
    const s = startSession(mode);

    // Two frames in one write: an unknown method with escapes and odd numbers, a spaced-out notification.
    s.write(UNKNOWN_REQUEST + ODD_NOTIFICATION);
    // A batch with no intercepted method in it.
    s.write(PLAIN_BATCH);
    // CRLF framing; the fixture answers after emitting frames of its own, one of them a server→client request.
    s.write(EMIT_REQUEST);
    const samplingRequest = await s.waitForMessage(
      'the upstream sampling/createMessage request',
      (m) => m.method === 'sampling/createMessage',
    );
    expect(samplingRequest.id).toBe('srv-1');
    // The host answers the upstream's request.
    s.write(SAMPLING_ANSWER);
    // One frame in four writes: "€" and "😀" cut between writes, and the newline alone in the last one.
    await s.writeInPieces(SPLIT_REQUEST, [...cutsInside(SPLIT_REQUEST, ['\u20ac', '\ud83d\ude00']), Buffer.byteLength(SPLIT_REQUEST) - 1]);
    s.write(BLANK_LINE);
    // tools/call frames the policy allows: odd key order with a string id; an escaped tool name with id 42.0.
    s.write(KEY_ORDER_CALL);
    s.write(ESCAPED_NAME_CALL);
    // Bytes that are not UTF-8 (MCP requires UTF-8) pass only in monitor mode: enforce mode refuses
    // them (a notification silently, a request with -32600), since readers decode bad bytes differently.
    s.write(LATIN1_NOTIFICATION, mode === 'monitor');
    s.write(LATIN1_CALL, mode === 'monitor');
    if (mode === 'enforce') s.write(BLOCKED_CALL, false);
    else s.write(NOT_JSON);

    const answers = {
      1: await s.response(1),
      'b-1': await s.response('b-1'),
      7: await s.response(7),
      2: await s.response(2),
      3: await s.response(3),
      abc: await s.response('abc'),
      42: await s.response(42),
    };
    const latin1Answer = await s.response('latin1');
    const blocked = mode === 'enforce' ? await s.response('blocked-1') : undefined;
    await s.upstreamCaughtUp();
    const exit = await s.end(UNTERMINATED_TAIL);
    expect(exit).toEqual({ code: 0, signal: null });

    // Host → upstream: exactly the bytes the host wrote (minus the refused call), in order.
    const upstreamReceived = s.upstreamReceived;
    expect(upstreamReceived.toString('utf8')).toBe(s.expectedUpstream.toString('utf8')); // readable diff
    expect(upstreamReceived.equals(s.expectedUpstream)).toBe(true);
    expect(upstreamReceived.includes(Buffer.from(BLOCKED_CALL))).toBe(false);

    // Upstream → host: exactly the bytes the upstream wrote, plus (enforce) the one refusal of the proxy's own.
    const isBlocked = synthesizedError('blocked-1', -32001);
    const isInvalid = synthesizedError('latin1', -32600);
    const { rest, removed } = s.hostReceivedWithout((line) => isBlocked(line) || isInvalid(line));
    expect(removed).toHaveLength(mode === 'enforce' ? 2 : 0);
    expect(rest.toString('utf8')).toBe(s.upstreamSent.toString('utf8')); // readable diff
    expect(rest.equals(s.upstreamSent)).toBe(true);

    // The upstream saw each request whole: its answer reports the request line's length in bytes.
    const lineBytes = (frame: string): number => Buffer.byteLength(frame, 'utf8') - 1; // without the \n
    const result = (m: Json): Json => m.result as Json;
    expect(result(answers[1]).bytes).toBe(lineBytes(UNKNOWN_REQUEST));
    expect(result(answers['b-1']).bytes).toBe(lineBytes(PLAIN_BATCH));
    expect(result(answers[7]).bytes).toBe(lineBytes(PLAIN_BATCH));
    expect(result(answers[2]).bytes).toBe(lineBytes(EMIT_REQUEST));
    expect(result(answers[3]).bytes).toBe(lineBytes(SPLIT_REQUEST));
    expect(result(answers.abc)).toMatchObject({ method: 'tools/call', bytes: lineBytes(KEY_ORDER_CALL) });
    expect(result(answers[42])).toMatchObject({ method: 'tools/call', bytes: lineBytes(ESCAPED_NAME_CALL) });

    // The upstream's own frames reached the host intact, including the one it wrote in pieces.
    const hostMessages = messagesOf(splitLines(s.hostReceived));
    expect(hostMessages.find((m) => m.method === 'notifications/split')?.params).toEqual({ text: 'a\u20acb\ud83d\ude00c' });
    expect(hostMessages.some((m) => m.method === 'notifications/fixture-unknown')).toBe(true);
    expect(hostMessages.some((m) => m.method === 'x/y')).toBe(true);

    expect(hostMessages.find((m) => m.method === 'notifications/latin1')?.params).toEqual({ s: 'caf\ufffd' });
    if (mode === 'monitor') {
      expect(result(latin1Answer)).toMatchObject({ method: 'tools/call', bytes: LATIN1_CALL.length - 1 });
    } else {
      expect(latin1Answer.error).toMatchObject({ code: -32600 });
    }
    if (blocked) {
      expect(blocked.error).toMatchObject({
        code: -32001,
        data: { decision: 'block', ruleId: 'no-forbidden', tool: 'recorder.forbidden-tool' },
      });
    }
  });

  it('forwards an allowed tools/call written as {"params":…,"method":"tools/call","id":"abc","jsonrpc":"2.0"} unchanged', async () => {
    const s = startSession(mode);
    const frame = s.write(KEY_ORDER_CALL);

    const answer = await s.response('abc');
    expect(answer.result).toMatchObject({ method: 'tools/call', bytes: frame.length - 1 });
    await s.upstreamCaughtUp();
    expect(await s.end()).toEqual({ code: 0, signal: null });

    expect(s.upstreamReceived.equals(frame)).toBe(true);
    expect(s.hostReceived.equals(s.upstreamSent)).toBe(true);
  });
});

describe('byte-exact relay in enforce mode around refusals', () => {
  it('answers a blocked tools/call itself with -32001 and the id exactly as written (5.0, 8.0), and never forwards it', async () => {
    const s = startSession('enforce');
    s.write('{"id" : 5.0, "method":"tools/call","params":{"name":"forbidden-tool","arguments":{"x":"\\u00e9"}},"jsonrpc":"2.0"}\n', false);
    s.write('{"jsonrpc":"2.0","id":8.0,"method":"tools/call","params":{"name":"forbidden-tool"}}\n', false);
    const ping = s.write('{"jsonrpc":"2.0","id":6,"method":"ping"}\n');

    const refusal = await s.response(5);
    expect(refusal.error).toMatchObject({
      code: -32001,
      data: { decision: 'block', ruleId: 'no-forbidden', reason: 'forbidden in tests', tool: 'recorder.forbidden-tool' },
    });
    expect((await s.response(8)).error).toMatchObject({ code: -32001 });
    await s.response(6);
    await s.upstreamCaughtUp();
    expect(await s.end()).toEqual({ code: 0, signal: null });

    expect(s.upstreamReceived.equals(ping)).toBe(true);
    const { rest, removed } = s.hostReceivedWithout((l) => synthesizedError(5, -32001)(l) || synthesizedError(8, -32001)(l));
    expect(removed).toHaveLength(2);
    // Same value and type as the host wrote them: the numbers 5.0 and 8.0, not 5 / 8 and not strings.
    expect(removed[0]!.toString('utf8')).toMatch(/"id":5\.0[,}]/);
    expect(removed[1]!.toString('utf8')).toMatch(/"id":8\.0[,}]/);
    expect(rest.equals(s.upstreamSent)).toBe(true);
  });

  it('holds an upstream frame that is only half written until its newline, and never writes a refusal into it', async () => {
    const s = startSession('enforce');
    // The fixture pauses 800 ms inside its split frame (after the first byte of "€").
    s.write('{"jsonrpc":"2.0","id":"emit","method":"fixture/emit","params":{"gapMs":5,"pauseMs":800}}\n');
    // In the pause: the frame so far ends inside "€" (E2 82 of E2 82 AC).
    await waitUntil('the upstream to be paused half-way through its split frame', () => {
      const sent = s.upstreamSent;
      return sent.includes(Buffer.from('notifications/split')) && sent.subarray(-2).equals(Buffer.from([0xe2, 0x82]));
    });
    const half = s.upstreamSent;
    const wholeLines = half.subarray(0, half.lastIndexOf(NEWLINE) + 1);
    await waitUntil('the host to have every whole line before it', () => s.hostReceived.length >= wholeLines.length);
    await sleep(100);
    expect(s.upstreamSent.length).toBe(half.length); // still paused
    expect(s.hostReceived.equals(wholeLines)).toBe(true); // no byte of the half frame

    s.write(BLOCKED_CALL, false);
    const refusal = await s.response('blocked-1');
    expect((refusal.error as Json).code).toBe(-32001);
    await s.response('emit');
    await s.upstreamCaughtUp();
    expect(await s.end()).toEqual({ code: 0, signal: null });

    const lines = splitLines(s.hostReceived);
    const refusalIndex = lines.findIndex(synthesizedError('blocked-1', -32001));
    const splitIndex = lines.findIndex((l) => l.includes(Buffer.from('notifications/split')));
    expect(refusalIndex).toBeGreaterThan(splitIndex);
    expect(parseLine(lines[splitIndex]!)).toMatchObject({ params: { text: 'a\u20acb\ud83d\ude00c' } });
    const { rest, removed } = s.hostReceivedWithout(synthesizedError('blocked-1', -32001));
    expect(removed).toHaveLength(1);
    expect(rest.equals(s.upstreamSent)).toBe(true);
    expect(s.upstreamReceived.equals(s.expectedUpstream)).toBe(true);
  });
});
