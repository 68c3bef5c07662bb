/**
 * The one JSON-RPC client ratri's own tools speak through (the doctor to an upstream, the demo to a
 * proxy, the tests): newline-delimited JSON-RPC over a child's stdio, split by the proxy's own
 * FrameReader, answers matched to requests by id, and every request bounded by a deadline. When
 * the stream ends or the time runs out, the request settles with a `failure` saying so instead of
 * an invented error code: the codes in an answer are only ever the peer's.
 */
import type { Readable, Writable } from 'node:stream';
import { FrameReader } from '../framing/frame-reader.js';
import { withDeadline } from '../node/deadline.js';

export interface RpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** How a request ended: the peer's answer (`result` or `error`), or `failure` when none came. */
export interface RpcAnswer {
  id: number;
  result?: Record<string, unknown>;
  error?: RpcError;
  /** Set when no answer came: the stream closed, a write failed, or the deadline passed. */
  failure?: { kind: 'closed' | 'timeout'; message: string };
}

export interface LineClientOptions {
  /** Longest line accepted from the peer, in bytes. */
  maxFrameBytes: number;
  /** A line that is not a JSON-RPC object (MCP allows none on stdout); blank lines are skipped. */
  onStray?(line: string): void;
  /** A line longer than maxFrameBytes. */
  onOversize?(bytes: number): void;
}

export class LineRpcClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: RpcAnswer) => void>();
  private closedWhy: string | undefined;

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly options: LineClientOptions,
  ) {
    const frames = new FrameReader(
      { onFrame: (frame) => this.onLine(frame.toString('utf8')), onOversize: (info) => options.onOversize?.(info.totalBytes) },
      { maxFrameBytes: options.maxFrameBytes },
    );
    input.on('data', (chunk: Buffer) => frames.push(chunk));
    // Answers come only on this stream: once it ends, a waiting request fails now, not at its deadline.
    input.once('close', () => this.close('the peer closed its output before answering'));
    // EPIPE when the peer died first: its exit is what the caller reports, not the failed write.
    output.on('error', () => undefined);
  }

  /** Sends a request; the id is returned at once (the demo looks up a held call's approval by it). */
  request(method: string, params: Record<string, unknown> | undefined, timeoutMs: number): { id: number; answer: Promise<RpcAnswer> } {
    const id = this.nextId++;
    if (this.closedWhy !== undefined) return { id, answer: Promise.resolve({ id, failure: { kind: 'closed', message: this.closedWhy } }) };
    const answered = new Promise<RpcAnswer>((resolve) => this.waiting.set(id, resolve));
    const late = (): RpcAnswer => ({ id, failure: { kind: 'timeout', message: `no answer within ${timeoutMs} ms` } });
    const answer = withDeadline(answered, timeoutMs, late).finally(() => this.waiting.delete(id));
    this.write(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    return { id, answer };
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.write(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  /** Settles every waiting request with a `closed` failure; later requests fail at once. */
  close(why = 'the client was closed'): void {
    this.closedWhy ??= why;
    for (const [id, resolve] of this.waiting) resolve({ id, failure: { kind: 'closed', message: this.closedWhy } });
    this.waiting.clear();
  }

  private write(message: object): void {
    if (!this.output.writable) return;
    this.output.write(`${JSON.stringify(message)}\n`);
  }

  private onLine(text: string): void {
    if (text.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.options.onStray?.(text.trim());
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return this.options.onStray?.(text.trim());
    const { id } = message as { id?: unknown };
    const resolve = typeof id === 'number' ? this.waiting.get(id) : undefined;
    if (resolve && ('result' in message || 'error' in message)) resolve(message as RpcAnswer);
  }
}
