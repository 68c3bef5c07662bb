/**
 * Server-Sent Events plumbing shared by both HTTP transports: opening an event stream, writing one
 * event whose data is one upstream line (bytes unchanged), keep-alives, and the bounded per-session
 * buffer that makes `Last-Event-ID` resumption possible.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { corsHeaders } from './http-security.js';

const CR = 0x0d;
const KEEPALIVE = Buffer.from(': keep-alive\n\n');
/** Comments every 25 s keep idle streams open through proxies and load balancers that cut quiet connections. */
const KEEPALIVE_MS = 25_000;

/** Opens an SSE response; `onClose` runs once when it ends for any reason (client gone, or ended by us). */
export function openEventStream(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, onClose: () => void): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    ...corsHeaders(req),
    ...headers,
  });
  res.flushHeaders();
  const timer = setInterval(() => res.write(KEEPALIVE), KEEPALIVE_MS);
  timer.unref();
  res.once('close', () => {
    clearInterval(timer);
    onClose();
  });
}

/**
 * One SSE event. `data` is a complete upstream line without its newline, written unchanged as one
 * `data:` field. A trailing CR (tolerated by the stdio framing) would end the SSE line early, so a
 * CR — only ever whitespace in valid JSON — becomes a space; nothing else is touched.
 */
export function sseEvent(data: Buffer, fields: { id?: string; event?: string }): Buffer {
  let head = '';
  if (fields.event) head += `event: ${fields.event}\n`;
  if (fields.id) head += `id: ${fields.id}\n`;
  let body = data;
  if (data.indexOf(CR) !== -1) {
    body = Buffer.from(data);
    for (let i = 0; i < body.length; i++) if (body[i] === CR) body[i] = 0x20;
  }
  return Buffer.concat([Buffer.from(`${head}data: `), body, Buffer.from('\n\n')]);
}

/** An event kept for replay. */
interface BufferedEvent {
  stream: string;
  seq: number;
  data: Buffer;
}

/**
 * The events of one session, newest last, bounded by count and bytes (the oldest go first). Event
 * ids are `STREAM-SEQ`: the stream they belong to (`g` for the GET stream, `pN` for the N-th POST
 * stream) and a session-wide sequence number, so a `Last-Event-ID` names both the stream to resume
 * and where to resume it, as the spec asks (replay only that stream's later messages).
 */
export class EventBuffer {
  private events: BufferedEvent[] = [];
  private bytes = 0;
  private seq = 0;

  constructor(
    private readonly maxEvents = 1000,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  /** Stores an event and returns its id. */
  add(stream: string, data: Buffer): string {
    const seq = ++this.seq;
    this.events.push({ stream, seq, data });
    this.bytes += data.length;
    while (this.events.length > this.maxEvents || (this.bytes > this.maxBytes && this.events.length > 1)) {
      this.bytes -= this.events.shift()!.data.length;
    }
    return `${stream}-${seq}`;
  }

  /** A fresh id for a stream's priming event (an id with no data, so a client can resume from the start). */
  primingId(stream: string): string {
    return `${stream}-${this.seq}`;
  }

  /** Splits a `Last-Event-ID`; undefined when it is not one of ours. */
  static parseId(id: string): { stream: string; seq: number } | undefined {
    const match = /^(g|p\d+)-(\d+)$/.exec(id.trim());
    return match ? { stream: match[1]!, seq: Number(match[2]) } : undefined;
  }

  /** The stream's events after `seq`, oldest first, with their ids. */
  after(stream: string, seq: number): Array<{ id: string; data: Buffer }> {
    return this.events.filter((e) => e.stream === stream && e.seq > seq).map((e) => ({ id: `${e.stream}-${e.seq}`, data: e.data }));
  }
}
