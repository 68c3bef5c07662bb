import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventSink, RatriEvent } from '../../lib/telemetry/event.js';
import { EventQueue } from '../../lib/telemetry/event-queue.js';
import { inferAction, inferResource, riskLevel } from '../../lib/telemetry/infer.js';
import { isoTime } from '../../lib/telemetry/iso-time.js';
import { JsonlSink } from '../../lib/telemetry/jsonl-sink.js';
import { makeRedactor } from '../../lib/telemetry/redact.js';
import { Telemetry } from '../../lib/telemetry/telemetry.js';

describe('redaction', () => {
  it('replaces redactKeys case-insensitively at any depth, in objects and arrays, without touching the input', () => {
    const input = { Password: 'p1', nested: { list: [{ apiKey: 'k1', ok: 'yes' }] }, token: { deep: 'x' } };
    const out = makeRedactor(['password', 'APIKEY', 'token'])(input);
    expect(out).toEqual({ Password: '[REDACTED]', nested: { list: [{ apiKey: '[REDACTED]', ok: 'yes' }] }, token: '[REDACTED]' });
    expect(input.Password).toBe('p1');
    expect(JSON.stringify(out)).not.toMatch(/p1|k1/);
  });

  it('keeps a "__proto__" argument as a member of the copy, never as its prototype', () => {
    const input = JSON.parse('{"__proto__":{"path":"/etc/shadow","token":"t-1"},"x":1}') as Record<string, unknown>;
    const out = makeRedactor(['token'])(input) as Record<string, unknown>;
    expect(JSON.stringify(out)).toBe('{"__proto__":{"path":"/etc/shadow","token":"[REDACTED]"},"x":1}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(inferResource(out)).toBeUndefined(); // the call names no path of its own
  });
});

describe('action and resource inference', () => {
  it('reads the verb in the tool name, then the annotations', () => {
    expect(inferAction('read_file', undefined)).toBe('read');
    expect(inferAction('writeFile', undefined)).toBe('write');
    expect(inferAction('delete_branch', undefined)).toBe('delete');
    expect(inferAction('run_shell', undefined)).toBe('execute');
    expect(inferAction('fetch', undefined)).toBe('network');
    expect(inferAction('frobnicate', { readOnlyHint: true })).toBe('read');
    expect(inferAction('frobnicate', undefined)).toBe('other');
  });
  it('finds the resource in the arguments, with its type', () => {
    expect(inferResource({ path: '/tmp/a' })).toEqual({ type: 'file', value: '/tmp/a' });
    expect(inferResource({ url: 'https://x' })).toEqual({ type: 'url', value: 'https://x' });
    expect(inferResource({ command: 'ls' })).toEqual({ type: 'command', value: 'ls' });
    expect(inferResource({ paths: ['/a', '/b'] })).toEqual({ type: 'file', value: '/a, /b' });
    expect(inferResource({ n: 1 })).toBeUndefined();
    expect(riskLevel('delete', undefined)).toBe('high');
    expect(riskLevel('read', undefined)).toBe('low');
  });
});

describe('event times', () => {
  it('are written as new Date(ms).toISOString() writes them, the epoch and repeated times included', () => {
    for (const ms of [0, 0, 1796137649842, 1796137649842, 1796137649843, 0, -1, 8.64e15])
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('are right for every millisecond of a second, across seconds, years and the edges of four-digit years', () => {
    const times: number[] = [];
    for (let ms = 1796137649000; ms < 1796137651000; ms++) times.push(ms, ms - 7);
    for (const edge of [
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(9999, 11, 31, 23, 59, 59, 998),
      new Date(0).setUTCFullYear(0, 0, 1),
    ])
      times.push(edge, edge + 1, edge - 1);
    times.push(-1001, -999, -1, 1.5, 1796137649842.7, 1796137649842);
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('the JSONL file', () => {
  it('holds each event as its JSON text in UTF-8 and a newline, multi-byte and unpaired surrogates included', async () => {
    const path = join(mkdtempSync(join(os.tmpdir(), 'ratri-jsonl-')), 'events.jsonl');
    const sink = new JsonlSink(path);
    const texts = ['plain', 'é ü', '漢字', '\u{1f600}', 'lone \ud800 high', 'lone \udc00 low', '"quoted" \\ \n', ''];
    const events: RatriEvent[] = texts.map((text, i) => ({
      id: `e${i}`,
      type: 'proxy.warning',
      ts: isoTime(i),
      agentKey: 'a',
      environment: 'e',
      serverName: 's',
      sessionId: 'x',
      data: { text },
    }));
    await sink.write(events.slice(0, 3));
    await sink.write([]);
    await sink.write(events.slice(3));
    await sink.close();
    const expected = Buffer.concat(events.map((e) => Buffer.from(`${JSON.stringify(e)}\n`)));
    expect(readFileSync(path).equals(expected)).toBe(true);
  });
});

describe('event queue', () => {
  const event = (n: number): RatriEvent => ({
    id: String(n),
    type: 'proxy.warning',
    ts: '',
    agentKey: '',
    environment: '',
    serverName: '',
    sessionId: '',
    data: {},
  });
  it('drops the oldest when full, counts the drops, and flushes the rest on close', async () => {
    const written: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sink: EventSink = {
      write: async (events) => {
        await gate;
        written.push(...events.map((e) => e.id));
      },
      close: async () => undefined,
    };
    const queue = new EventQueue([sink], 3, 10, undefined, 1);
    queue.push(event(1));
    await new Promise((r) => setTimeout(r, 20)); // batch [1] is now being written
    for (let i = 2; i <= 6; i++) queue.push(event(i));
    release();
    await queue.close(1000);
    expect(written).toEqual(['1', '4', '5', '6']);
    expect(queue.stats.dropped).toBe(2);
  });
});

describe('Telemetry', () => {
  it('builds events a little later, in a batch, in the order they were recorded', async () => {
    const seen: RatriEvent[] = [];
    const queue = new EventQueue([{ write: async (e) => void seen.push(...e), close: async () => undefined }], 100, 100, undefined, 1);
    const t = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 's', sessionId: 'x' }, queue, []);
    const call = t.describeCall('1', 'echo', {}, undefined, 10);
    t.warning('first', 'one');
    t.toolStarted(call);
    t.toolFinished(call, { resultSize: 1 });
    expect(queue.stats.queued).toBe(0); // nothing built yet: the frame goes first
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.stats.queued).toBe(0); // nor at the end of the turn: the process the frame woke gets the CPU first
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(queue.stats.queued).toBe(2); // the warning, and the call as one record (docs/events.md#one-record-per-call)
    await t.close(1000);
    expect(seen.map((e) => e.type)).toEqual(['proxy.warning', 'agent.tool.started', 'agent.tool.completed']);
  });

  it('builds a large call at the end of its turn, with the events waiting before it', async () => {
    const queue = new EventQueue([{ write: async () => undefined, close: async () => undefined }], 100, 100, undefined, 1);
    const t = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 's', sessionId: 'x' }, queue, []);
    const small = t.describeCall('1', 'echo', {}, undefined, 10);
    t.toolStarted(small);
    const large = t.describeCall('2', 'echo', {}, undefined, 70_000);
    t.toolStarted(large);
    t.toolFinished(large, { resultSize: 12 });
    expect(queue.stats.queued).toBe(0);
    await Promise.resolve();
    expect(queue.stats.queued).toBe(1); // the large call's record; the small call has not ended
    const answer = t.describeCall('3', 'echo', {}, undefined, 10);
    t.toolStarted(answer);
    t.toolFinished(answer, { resultSize: 65_536 });
    await Promise.resolve();
    expect(queue.stats.queued).toBe(2);
    await t.close(1000);
  });

  async function capture(redactKeys: string[], build: (t: Telemetry) => void): Promise<RatriEvent[]> {
    const seen: RatriEvent[] = [];
    const queue = new EventQueue([{ write: async (e) => void seen.push(...e), close: async () => undefined }]);
    const telemetry = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 's', sessionId: 'x' }, queue, redactKeys);
    build(telemetry);
    await telemetry.close(1000);
    return seen;
  }

  it('never puts a redacted value in the inferred resource', async () => {
    const events = await capture(['query', 'path'], (t) => {
      const call = t.describeCall('1', 'search', { query: 'SELECT secret' }, undefined, 10);
      t.toolStarted(call);
    });
    expect(events[0]!.data.resource).toEqual({ type: 'query', value: '[REDACTED]' });
    expect(JSON.stringify(events)).not.toContain('SELECT secret');
  });

  it('cuts a long argument once, saying how much was cut', async () => {
    const events = await capture([], (t) => t.toolStarted(t.describeCall('1', 'echo', { message: 'x'.repeat(5000) }, undefined, 10)));
    const message = (events[0]!.data.arguments as { message: string }).message;
    expect(message).toBe(`${'x'.repeat(4096)}…[truncated 904 chars]`);
  });

  it('never keeps the first part of a token that the cut falls into', async () => {
    const token = `ghp_${'A1b2C3d4'.repeat(4)}E5f6`;
    const text = `${'word '.repeat(818)}${token} more`; // 4090 characters of words, then the token
    const events = await capture([], (t) => t.toolStarted(t.describeCall('1', 'echo', { message: text }, undefined, 10)));
    const message = (events[0]!.data.arguments as { message: string }).message;
    expect(message.startsWith('word word')).toBe(true);
    expect(message).not.toContain('ghp_');
  });
});

describe('Telemetry redaction of event fields', () => {
  it('close() waits for tracked work, so what it records when it settles (a judged answer) is kept', async () => {
    const seen: RatriEvent[] = [];
    const queue = new EventQueue([{ write: async (e) => void seen.push(...e), close: async () => undefined }]);
    const t = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 's', sessionId: 'x' }, queue, []);
    const call = t.describeCall('1', 'echo', {}, undefined, 10);
    const judged = new Promise((resolve) => setTimeout(resolve, 50)).then(() => t.toolFinished(call, { resultSize: 1 }));
    t.track(judged);
    await t.close(1000);
    expect(seen.map((e) => e.type)).toEqual(['agent.tool.completed']);
  });

  it('redacts a redact key that names an event field, such as an upstream error message', async () => {
    const seen: RatriEvent[] = [];
    const queue = new EventQueue([{ write: async (e) => void seen.push(...e), close: async () => undefined }]);
    const t = new Telemetry({ agentKey: 'a', environment: 'e', serverName: 's', sessionId: 'x' }, queue, ['MESSAGE']);
    const call = t.describeCall('1', 'echo', { message: 'secret-arg' }, undefined, 10);
    t.toolFinished(call, { error: { code: -32000, message: 'secret-in-error' }, resultSize: 5 });
    await t.close(1000);
    expect(JSON.stringify(seen)).not.toMatch(/secret/);
    expect(seen[0]!.data.error).toEqual({ code: -32000, message: '[REDACTED]' });
  });
});
