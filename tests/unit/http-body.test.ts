/** readRequestBody on a real node:http server and real sockets. */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type BodyLimits, type BodyRead, readRequestBody } from '../../lib/net/http-body.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server that reads each body with `limits`, reports it, and (unless told not to) answers with what it read. */
async function serve(limits: BodyLimits, answer = true): Promise<{ port: number; reads: BodyRead[] }> {
  const reads: BodyRead[] = [];
  const server = createServer((req, res) => {
    void readRequestBody(req, limits).then((read) => {
      reads.push(read);
      if (!answer) return;
      res.writeHead(read.kind === 'body' ? 200 : read.kind === 'timeout' ? 408 : 413, { Connection: 'close' });
      res.end(read.kind === 'body' ? `got ${read.body.length}` : read.kind);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, reads };
}

/** Starts a chunked POST (no Content-Length); resolves with the response as soon as it comes. */
function startUpload(port: number): {
  write: (n: number) => boolean;
  end: () => void;
  response: Promise<{ status: number; text: string }>;
  closed: Promise<void>;
} {
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Transfer-Encoding': 'chunked' } });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
  });
  const closed = new Promise<void>((r) => req.on('close', () => r()));
  response.catch(() => undefined);
  return { write: (n) => req.write(Buffer.alloc(n, 0x61)), end: () => req.end(), response, closed };
}

describe('readRequestBody', () => {
  it('reads a body within the limit, whole', async () => {
    const { port, reads } = await serve({ limit: 1000 });
    const upload = startUpload(port);
    upload.write(600);
    upload.write(400);
    upload.end();
    expect(await upload.response).toEqual({ status: 200, text: 'got 1000' });
    expect(reads).toEqual([{ kind: 'body', body: Buffer.alloc(1000, 0x61) }]);
  });

  it('says too-large as soon as more than the limit has come, while the client is still sending', async () => {
    const { port } = await serve({ limit: 1000 });
    const upload = startUpload(port);
    upload.write(1001); // the request is not ended: the answer must not wait for its end
    expect(await upload.response).toEqual({ status: 413, text: 'too-large' });
  });

  it('says too-large from Content-Length alone, before any of the body is read', async () => {
    const { port, reads } = await serve({ limit: 1000 });
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'Content-Length': '5000' } });
    const status = await new Promise<number>((resolve, reject) => {
      req.on('response', (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.write('x'); // 1 of the 5000 announced bytes
    });
    expect(status).toBe(413);
    expect(reads).toEqual([{ kind: 'too-large' }]);
    req.destroy();
  });

  it('hangs up on a refused body that goes on past hangUpAboveBytes', async () => {
    const { port, reads } = await serve({ limit: 1000, hangUpAboveBytes: 64 * 1024 }, false); // no answer that could close it
    const upload = startUpload(port);
    upload.write(2000);
    for (let i = 0; i < 64; i++) upload.write(4096); // 256 KiB more, never ended
    await upload.closed; // the server closed the connection; without the hang-up this would wait forever
    expect(reads).toEqual([{ kind: 'too-large' }]);
  });

  it('says timeout when a body does not end within timeoutMs, whether the client trickles or stops', async () => {
    const { port, reads } = await serve({ limit: 1000, timeoutMs: 300 });
    const started = Date.now();
    const stopped = startUpload(port);
    stopped.write(10); // then nothing more, never ended
    const trickling = startUpload(port);
    const drip = setInterval(() => trickling.write(1), 50); // a byte every 50 ms: never idle, never done
    try {
      expect(await stopped.response).toEqual({ status: 408, text: 'timeout' });
      expect(await trickling.response).toEqual({ status: 408, text: 'timeout' });
    } finally {
      clearInterval(drip);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    await stopped.closed; // the answer's Connection: close ends the upload still under way
    expect(reads).toEqual([
      { kind: 'timeout', timeoutMs: 300 },
      { kind: 'timeout', timeoutMs: 300 },
    ]);
  });
});
