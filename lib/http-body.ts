/**
 * Reading an HTTP request body up to a size limit, for every HTTP server ratri runs: the
 * control-plane API (`ratri serve`), the dashboard and the HTTP front. A body over the limit is
 * reported as soon as it is known to be (from `Content-Length`, or once that many bytes came), so the
 * caller can answer 413 at once; what the client still sends is read and thrown away, and past
 * `hangUpAboveBytes` the connection is closed on it.
 */
import type { IncomingMessage } from 'node:http';

export type BodyRead =
  | { kind: 'body'; body: Buffer }
  | { kind: 'too-large' }
  /** The client went away (or the connection failed) before the body ended. */
  | { kind: 'aborted'; reason: string };

export interface BodyLimits {
  /** The largest body accepted, in bytes. */
  limit: number;
  /** Past this many bytes of a refused body, stop reading it and close the connection. */
  hangUpAboveBytes?: number;
}

export function readRequestBody(req: IncomingMessage, { limit, hangUpAboveBytes = Infinity }: BodyLimits): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (read: BodyRead): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      resolve(read);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) settle({ kind: 'too-large' });
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (settled) {
        if (size > hangUpAboveBytes) req.destroy(); // a client that will not stop: hang up
        return;
      }
      if (size > limit) return settle({ kind: 'too-large' });
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!settled) resolve({ kind: 'body', body: Buffer.concat(chunks, size) });
      settled = true;
    });
    req.on('error', (err) => settle({ kind: 'aborted', reason: err.message }));
    req.on('close', () => settle({ kind: 'aborted', reason: 'the client closed the connection' }));
  });
}
