/**
 * Reading an HTTP request body up to a size limit, for every HTTP server ratri runs: the
 * control-plane API (`ratri serve`), the dashboard and the HTTP front. A body over the limit is
 * reported as soon as it is known to be (from `Content-Length`, or once that many bytes came), so the
 * caller can answer 413 at once; what the client still sends is read and thrown away, and past
 * `hangUpAboveBytes` the connection is closed on it. A body that does not end within `timeoutMs`
 * (a slowloris client trickling bytes, or one that stops) is reported too, so the caller answers 408
 * and closes the connection instead of holding it open.
 */
import type { IncomingMessage } from 'node:http';

export type BodyRead =
  | { kind: 'body'; body: Buffer }
  | { kind: 'too-large' }
  /** The body did not end within `timeoutMs`. */
  | { kind: 'timeout'; timeoutMs: number }
  /** The client went away (or the connection failed) before the body ended. */
  | { kind: 'aborted'; reason: string };

export interface BodyLimits {
  /** The largest body accepted, in bytes. */
  limit: number;
  /** Past this many bytes of a refused body, stop reading it and close the connection. */
  hangUpAboveBytes?: number;
  /** The whole body must have come within this many milliseconds of the call (default 10 s). */
  timeoutMs?: number;
}

/** How long a client may take to send a whole body, unless the caller says otherwise. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

export function readRequestBody(
  req: IncomingMessage,
  { limit, hangUpAboveBytes = Infinity, timeoutMs = DEFAULT_BODY_TIMEOUT_MS }: BodyLimits,
): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => settle({ kind: 'timeout', timeoutMs }), timeoutMs);
    const settle = (read: BodyRead): void => {
      clearTimeout(timer);
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
      if (!settled) settle({ kind: 'body', body: Buffer.concat(chunks, size) });
    });
    req.on('error', (err) => settle({ kind: 'aborted', reason: err.message }));
    req.on('close', () => settle({ kind: 'aborted', reason: 'the client closed the connection' }));
  });
}
