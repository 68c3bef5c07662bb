/**
 * Progress while a call waits for a human: hosts built on the official MCP SDKs give up on a call
 * after 60 s unless it reports progress (`resetTimeoutOnProgress`). When the held request carries
 * `params._meta.progressToken`, a `notifications/progress` goes to the host every interval, with the
 * token spelled exactly as the host sent it and a progress that grows by one each time
 * (docs/control-plane.md, "Progress while a call is held").
 */
import { scanTopLevel } from '../jsonrpc/json-scan.js';
import type { ParsedMessage } from '../jsonrpc/message.js';

/**
 * The raw JSON text of `params._meta.progressToken`, or undefined when the request has none or its
 * token is neither a string nor a number (the only kinds MCP allows).
 */
export function rawProgressToken(message: ParsedMessage): string | undefined {
  const meta = message.rawParam('_meta');
  if (!meta?.startsWith('{')) return undefined;
  const token = scanTopLevel(meta).members.get('progressToken');
  if (token === undefined) return undefined;
  const first = token.charCodeAt(0);
  const isString = first === 34; /* " */
  const isNumber = first === 45 /* - */ || (first >= 48 && first <= 57);
  return isString || isNumber ? token : undefined;
}

export interface HoldProgress {
  /** The token's raw text, from rawProgressToken. */
  token: string;
  approvalId: string;
  intervalMs: number;
  /** Writes one frame of the proxy's own to the host. */
  toHost(frame: Buffer): void;
  /** Aborted when the hold ends early (cancelled, host gone, proxy stopping): the notifications stop. */
  signal: AbortSignal;
}

/** What the gate asks for with a hold; the interceptor, the only writer, adds where the frames go. */
export type PendingHoldProgress = Omit<HoldProgress, 'toHost'>;

/** One progress notification, the token spliced in as the host wrote it. */
export function progressFrame(token: string, progress: number, message: string): Buffer {
  return Buffer.from(
    `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":${token},"progress":${progress},"message":${JSON.stringify(message)}}}`,
  );
}

/** Starts the notifications; the function returned stops them (call it when the hold is decided). */
export function startHoldProgress(p: HoldProgress): () => void {
  const since = Date.now();
  let progress = 0;
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - since) / 1000);
    p.toHost(progressFrame(p.token, ++progress, `waiting for approval ${p.approvalId} since ${seconds} s`));
  }, p.intervalMs);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    p.signal.removeEventListener('abort', stop);
  };
  p.signal.addEventListener('abort', stop, { once: true });
  return stop;
}
