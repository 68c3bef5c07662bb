/**
 * The one line JSON-RPC client (doctor, demo): answers matched by id whatever their order, the
 * peer's error passed through, stray lines reported, a deadline, and a closed stream failing the
 * waiting requests at once. The peer is a real child process speaking over its stdio.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LineRpcClient } from '../../lib/jsonrpc-client/line-client.js';

// Answers `later` after `now` (so answers arrive out of order), `fail` with an error, never answers
// `silent`, writes a stray line before answering `noisy`, splits `split`'s answer over two writes
// in the middle of a multi-byte character, and exits on `exit`.
const PEER = String.raw`
let buf = '';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
process.stdin.on('data', (c) => {
  buf += c;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    const m = JSON.parse(buf.slice(0, nl)); buf = buf.slice(nl + 1);
    if (m.method === 'later') setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { which: 'later' } }), 100);
    if (m.method === 'now') send({ jsonrpc: '2.0', id: m.id, result: { which: 'now', params: m.params ?? null } });
    if (m.method === 'fail') send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } });
    if (m.method === 'noisy') { process.stdout.write('starting up\n[1,2]\n\n'); send({ jsonrpc: '2.0', id: m.id, result: {} }); }
    if (m.method === 'split') {
      const line = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { text: 'é' } }) + '\n');
      const cut = line.indexOf(0xc3) + 1;
      process.stdout.write(line.subarray(0, cut));
      setTimeout(() => process.stdout.write(line.subarray(cut)), 50);
    }
    if (m.method === 'exit') process.exit(0);
  }
});`;

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function peer(): { client: LineRpcClient; strays: string[] } {
  const child = spawn(process.execPath, ['-e', PEER]);
  children.push(child);
  const strays: string[] = [];
  const client = new LineRpcClient(child.stdout, child.stdin, { maxFrameBytes: 1 << 20, onStray: (l) => strays.push(l) });
  return { client, strays };
}

describe('LineRpcClient', () => {
  it('matches answers to requests by id, whatever order they come in', async () => {
    const { client } = peer();
    const later = client.request('later', undefined, 5000);
    const now = client.request('now', { x: 1 }, 5000);
    expect([later.id, now.id]).toEqual([1, 2]);
    const first = await Promise.race([later.answer.then(() => 'later'), now.answer.then(() => 'now')]);
    expect(first).toBe('now');
    expect(await now.answer).toEqual({ jsonrpc: '2.0', id: 2, result: { which: 'now', params: { x: 1 } } });
    expect((await later.answer).result).toEqual({ which: 'later' });
  });

  it("passes the peer's error through and reports lines that are not JSON-RPC objects", async () => {
    const { client, strays } = peer();
    expect((await client.request('fail', undefined, 5000).answer).error).toEqual({ code: -32601, message: 'Method not found' });
    expect((await client.request('noisy', undefined, 5000).answer).result).toEqual({});
    expect(strays).toEqual(['starting up', '[1,2]']);
  });

  it('keeps a character split between chunks whole', async () => {
    const { client } = peer();
    expect((await client.request('split', undefined, 5000).answer).result).toEqual({ text: 'é' });
  });

  it('gives up at the deadline with a timeout failure, not an invented error code', async () => {
    const { client } = peer();
    const a = await client.request('silent', undefined, 50).answer;
    expect(a).toEqual({ id: 1, failure: { kind: 'timeout', message: 'no answer within 50 ms' } });
  });

  it('fails waiting requests as soon as the peer closes its output, and later ones at once', async () => {
    const { client } = peer();
    const waiting = client.request('silent', undefined, 60_000);
    client.notify('exit');
    const started = Date.now();
    expect((await waiting.answer).failure).toEqual({ kind: 'closed', message: 'the peer closed its output before answering' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await client.request('now', undefined, 60_000).answer).failure?.kind).toBe('closed');
  });
});
