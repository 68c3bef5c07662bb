/**
 * Monitor mode reads a host frame after sending it on; when the upstream has not taken the bytes yet
 * (its stdin full, as with a large frame), the reading waits until it has (lib/session/host-pipe.ts),
 * so that it does not hold up the write. Whatever needs the frame read comes first reads it first:
 * the upstream's answer, the upstream's exit, the end of the session. The call is timed from when it
 * was sent on.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../../lib/jsonrpc/errors.js';
import type { Interceptor } from '../../lib/relay/interceptor.js';
import { HostPipe } from '../../lib/session/host-pipe.js';
import { createLinkedRelay } from '../helpers/relay-harness.js';

const call = (id: number) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"m":"${'x'.repeat(64)}"}}}\n`;
const answer = (id: number) => `{"jsonrpc":"2.0","id":${id},"result":{"content":[]}}\n`;

describe('monitor mode: frames read after the upstream took them', () => {
  it('an answer to a call not read yet reads the call first, and settles it', () => {
    const relay = createLinkedRelay({ mode: 'monitor' });
    relay.host.writeUntaken(call(1));
    expect(relay.upstream.bytes().toString()).toBe(call(1));
    expect(relay.calls('describeCall')).toEqual([]);
    relay.upstream.write(answer(1));
    expect(relay.seen.map((s) => s[0])).toEqual(['describeCall', 'toolStarted', 'guardrailEvaluated', 'toolFinished']);
  });

  it('is timed from when it was sent on, not from when it was read', async () => {
    const relay = createLinkedRelay({ mode: 'monitor' });
    const before = performance.now();
    relay.host.writeUntaken(call(2));
    await new Promise((resolve) => setTimeout(resolve, 30));
    relay.interceptor.afterHostChunk();
    const startedAt = relay.calls('describeCall')[0]?.[4];
    expect(startedAt).toBeGreaterThanOrEqual(before);
    expect(startedAt).toBeLessThan(before + 20);
  });

  it('the upstream exiting answers a call not read yet with -32603', () => {
    const relay = createLinkedRelay({ mode: 'monitor' });
    relay.host.writeUntaken(call(3));
    relay.upstream.exit(1);
    expect(relay.host.messages()).toMatchObject([{ id: 3, error: { code: ProxyErrorCode.upstreamExited } }]);
  });

  it('the session waiting for answers waits for a call not read yet', async () => {
    const relay = createLinkedRelay({ mode: 'monitor' });
    relay.host.writeUntaken(call(4));
    const answered = relay.interceptor.whenAnswered(10_000).then(() => 'answered');
    const first = await Promise.race([answered, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 50))]);
    expect(first).toBe('still waiting');
    relay.upstream.write(answer(4));
    expect(await answered).toBe('answered');
  });
});

describe('the host pipe', () => {
  /** An upstream stdin that takes nothing until `take()`: its buffer fills after 16 bytes. */
  function slowUpstream() {
    const callbacks: Array<() => void> = [];
    const stream = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, done) {
        callbacks.push(done);
      },
      writev(_chunks, done) {
        callbacks.push(done);
      },
    });
    return { stream, take: () => callbacks.splice(0).forEach((done) => done()) };
  }

  function pipeWith(upstreamIn: Writable) {
    const steps: string[] = [];
    const interceptor = {
      onHostFrame: (frame: Buffer) => {
        steps.push(`frame ${frame.length}`);
        upstreamIn.write(Buffer.concat([frame, Buffer.from('\n')]));
      },
      onHostOversize: () => steps.push('oversize'),
      afterHostChunk: () => steps.push('read'),
      readLater: () => steps.push('read later'),
    } as unknown as Interceptor;
    const hostIn = new PassThrough();
    new HostPipe({ hostIn, hostOut: new PassThrough(), upstreamIn, interceptor, maxFrameBytes: 1 << 20, onGone: () => undefined });
    return { hostIn, steps };
  }

  it('reads a chunk at once when the upstream took it, and once it has when its stdin was full', async () => {
    const upstream = slowUpstream();
    const { hostIn, steps } = pipeWith(upstream.stream);
    hostIn.write('{"a":1}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['frame 7', 'read']);
    upstream.take();
    steps.length = 0;
    hostIn.write(`{"a":"${'y'.repeat(100)}"}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['frame 108', 'read later']);
    upstream.take();
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['frame 108', 'read later', 'read']);
  });
});
