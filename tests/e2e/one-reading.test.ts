/**
 * One frame, one reading (docs/policy.md): frames that some reader would read differently from the
 * policy are refused in enforce mode before routing, whatever their method — never forwarded, each
 * recorded as a `proxy.warning` — and forwarded unchanged (with the warning) in monitor mode; a
 * frame nested 6000 deep crashes neither mode nor an HTTP session. The byte-level answers are the
 * golden sessions enforce-cr-hides-a-call, enforce-duplicate-keys-before-routing,
 * enforce-case-folded-keys, enforce-deep-nesting and enforce-odd-methods-and-names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, everythingServer, fixtureServer, ProxyProcess, writeConfig } from '../helpers/cli.js';
import { withHttpFront } from '../helpers/http-front.js';

const { dir, track } = cleanUpAfterEach('ratri-one-reading-');

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const HIDDEN = '{"jsonrpc":"2.0","id":91,"method":"tools/call","params":{"name":"exec","arguments":{"command":"id"}}}';
/** Frames every one of which some reader reads differently from JSON.parse. */
const AMBIGUOUS: Array<string | Buffer> = [
  `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":\r${HIDDEN}\r}}`,
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"exec","arguments":{}},"method":"ping"}',
  '{"jsonrpc":"2.0","id":3,"method":"ping","Method":"tools/call","params":{"name":"exec"}}',
  '{"jsonrpc":"2.0","id":4,"Method":"tools/call","params":{"name":"exec"}}',
  '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/tmp/a","Path":"/etc/shadow"}}}',
  `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"a":${deep(6000)}}}}`,
  '{"jsonrpc":"2.0","id":7,"method":7,"params":{"name":"exec"}}',
  '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"exec\\u0000"}}',
  Buffer.concat([
    Buffer.from('{"jsonrpc":"2.0","id":9,"method":"tools/call'),
    Buffer.from([0xff]),
    Buffer.from('","params":{"name":"exec"}}'),
  ]),
  `{"jsonrpc":"2.0","method":"notifications/x","params":{"a":${deep(6000)}}}`,
];
const PING = '{"jsonrpc":"2.0","id":"last","method":"ping"}';

function startRecorded(mode: 'enforce' | 'monitor'): {
  proxy: ProxyProcess;
  received: () => Buffer;
  events: () => Array<Record<string, any>>;
} {
  const d = dir();
  const record = join(d, 'received.bin');
  const jsonl = join(d, 'events.jsonl');
  const config = writeConfig(d, {
    agentKey: 'one-reading',
    serverName: 'fs',
    mode,
    store: join(d, 'ratri.db'),
    upstream: {
      command: process.execPath,
      args: [fixtureServer('byte-recorder.mjs')],
      env: { RECORD_FILE: record, SENT_FILE: join(d, 'sent.bin') },
    },
    guardrails: { rules: [{ id: 'no-exec', tool: 'exec', decision: 'block' }] },
    telemetry: { jsonl },
  });
  const proxy = track(new ProxyProcess(['--config', config]));
  return {
    proxy,
    received: () => readFileSync(record),
    events: () =>
      readFileSync(jsonl, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

const warnings = (events: Array<Record<string, any>>) =>
  events.filter((e) => e.type === 'proxy.warning' && e.data.kind === 'ambiguous_frame');

describe('one frame, one reading, through the built CLI', () => {
  it('enforce mode refuses each ambiguous frame before routing, forwards none of it, records each, and keeps running', async () => {
    const { proxy, received, events } = startRecorded('enforce');
    for (const frame of AMBIGUOUS) proxy.child.stdin.write(Buffer.concat([Buffer.from(frame), Buffer.from('\n')]));
    proxy.send(PING);
    await proxy.response('last');
    for (const id of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const answer = await proxy.response(id);
      expect((answer.error as { code: number }).code, JSON.stringify(answer)).toBe(-32600);
    }
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    // The upstream got the ping, and nothing of the refused frames.
    expect(received().toString('utf8')).toBe(`${PING}\n`);
    const refused = warnings(events());
    expect(refused).toHaveLength(AMBIGUOUS.length);
    expect(refused.every((w) => w.data.enforced === true && w.data.forwarded === false)).toBe(true);
  });

  it('monitor mode forwards each of them unchanged, warns about each, and never crashes', async () => {
    const { proxy, received, events } = startRecorded('monitor');
    for (const frame of AMBIGUOUS) proxy.child.stdin.write(Buffer.concat([Buffer.from(frame), Buffer.from('\n')]));
    proxy.send(PING);
    await proxy.response('last');
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    const expected = Buffer.concat([...AMBIGUOUS.map((f) => Buffer.concat([Buffer.from(f), Buffer.from('\n')])), Buffer.from(`${PING}\n`)]);
    expect(received().equals(expected)).toBe(true);
    const seen = warnings(events());
    expect(seen).toHaveLength(AMBIGUOUS.length);
    expect(seen.every((w) => w.data.enforced === false)).toBe(true);
  });

  it('an HTTP session answers a frame nested 6000 deep, or one whose id is ambiguous, with -32600 and goes on serving', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'one-reading',
      serverName: 'everything',
      mode: 'enforce',
      store: join(d, 'ratri.db'),
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
    });
    await withHttpFront(config, d, async ({ post, initialize }) => {
      const session = await initialize();
      expect(session).toBeDefined();
      const refused = await post(
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":${deep(6000)}}}}`,
        session,
      );
      expect(refused.answers.at(-1)).toMatchObject({ id: 1, error: { code: -32600, data: { reason: 'nested deeper than 64 levels' } } });
      // The id itself is what is ambiguous: the answer carries id null, and the POST's stream still ends.
      for (const body of ['{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', '{"jsonrpc":"2.0","ID":3,"method":"ping"}']) {
        const answer = await post(body, session);
        expect(answer.answers.at(-1)).toMatchObject({ id: null, error: { code: -32600 } });
      }
      const after = await post('{"jsonrpc":"2.0","id":2,"method":"ping"}', session);
      expect(after.answers.at(-1)).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    });
  });
});
