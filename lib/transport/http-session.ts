/**
 * One HTTP client session: a `ProxySession` of its own (its own upstream child, the full
 * interceptor, telemetry and approvals), driven through in-memory host streams. What a client
 * POSTs is written into the host input as one line; what the proxy writes to the host is split
 * back into lines and handed to the transport that owns the session.
 */
import type { ServerResponse } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import type { ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { FrameReader } from '../framing/frame-reader.js';
import type { OriginOf } from '../relay/request-origin.js';
import { ProxySession } from '../session/proxy-session.js';
import type { StopBudget } from '../session/stop-clock.js';

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;

/**
 * Makes one newline-free line of a JSON text: a raw CR or LF in valid JSON can only be whitespace
 * between tokens (inside strings they must be escaped), so a space means the same. Copies only
 * when there is something to replace; otherwise the bytes are forwarded as they are.
 */
export function oneLine(body: Buffer): Buffer {
  if (body.indexOf(LF) === -1 && body.indexOf(CR) === -1) return body;
  const copy = Buffer.from(body);
  for (let i = 0; i < copy.length; i++) if (copy[i] === CR || copy[i] === LF) copy[i] = SPACE;
  return copy;
}

/** Lines longer than this are checked by their first byte only: parsing them whole would cost more than it tells. */
const PARSE_WHOLE_BYTES = 8 * 1024 * 1024;

/**
 * What a line from the upstream is, for an HTTP client: a JSON object or array (one message or a
 * batch), blank, or something else, such as a log line a server prints on stdout. Only the first goes
 * out as an SSE event: a client parses every event's data as JSON-RPC.
 */
export function lineKind(line: Buffer): 'json' | 'blank' | 'not-json' {
  const first = line.find((b) => b !== SPACE && b !== 0x09 && b !== CR);
  if (first === undefined) return 'blank';
  if (first !== 0x7b && first !== 0x5b) return 'not-json'; // { or [
  if (line.length > PARSE_WHOLE_BYTES) return 'json';
  try {
    JSON.parse(line.toString('utf8'));
    return 'json';
  } catch {
    return 'not-json';
  }
}

export interface HttpSessionOptions {
  /** The id clients name the session by (`Mcp-Session-Id`, `?sessionId=`). */
  id: string;
  /** Which front transport owns it; only for messages. */
  transport: 'http' | 'sse';
  config: ProxyConfig;
  /** The front's control plane, shared by all its sessions (one store connection, not one per session). */
  controlPlane: ControlPlane;
  log(message: string): void;
  stopBudget?: StopBudget;
}

/** One client's session. The owning transport sets `onServerLine` and `onEnded`. */
export class HttpSession {
  readonly id: string;
  readonly transport: 'http' | 'sse';
  /**
   * Every complete line the proxy writes towards the client (upstream bytes or ratri's own answers).
   * Returns the response it was written to when that response's buffer is full (`write` returned
   * false): the session then stops taking the upstream's output until that response drains.
   */
  onServerLine: (line: Buffer) => ServerResponse | undefined = () => undefined;
  /** Called once when the session has ended (ended by us, or its upstream exited or never started). */
  onEnded: (reason: string) => void = () => undefined;
  /** Time of the last request or of the last stream closing; the idle reaper reads it. */
  lastActivity = Date.now();
  /** Open long-lived responses (SSE streams): a session with one is not idle. */
  openStreams = 0;
  /** True while a request of the client is not answered yet (set by the owning transport): such a session is not idle either. */
  hasUnanswered: () => boolean = () => false;
  /** Set by a transport that rewrites request ids (stateless-requests.ts): who sent each request. */
  originOf: OriginOf = () => undefined;
  /** Settles with the ProxySession's exit code once its upstream is gone and telemetry flushed. */
  readonly done: Promise<number>;
  private readonly hostIn = new PassThrough();
  private readonly log: (message: string) => void;
  private readonly proxy: ProxySession;
  private endReason: string | undefined;
  /** Responses that refused more (their client reads slowly) since the last chunk from the proxy. */
  private readonly full = new Set<ServerResponse>();
  /** Waits (for a response to drain, for the host input to drain) to let go of when the session ends. */
  private readonly waits = new Set<() => void>();

  constructor(options: HttpSessionOptions) {
    this.id = options.id;
    this.transport = options.transport;
    // No size limit on lines towards the client: the ProxySession already applies maxFrameBytes
    // to what it inspects and relays longer upstream frames unchanged, so this splitter must too.
    const lines = new FrameReader({ onFrame: (line) => this.serverLine(line) }, { maxFrameBytes: Number.MAX_SAFE_INTEGER });
    // Backpressure towards a slow client: a chunk is taken as written only once every response it
    // filled has drained. Meanwhile up to highWaterMark more is buffered, then the ProxySession stops
    // reading the upstream's stdout (as it does for a slow stdio host), and the upstream waits.
    const hostOut = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        lines.push(chunk);
        this.afterFull(callback);
      },
      final(callback) {
        lines.end();
        callback();
      },
    });
    const sessionLog = (message: string): void => options.log(`session ${this.id.slice(0, 8)}: ${message}`);
    this.log = sessionLog;
    this.proxy = new ProxySession({
      config: options.config,
      controlPlane: options.controlPlane,
      hostIn: this.hostIn,
      hostOut,
      log: sessionLog,
      stopBudget: options.stopBudget,
      hostCloseReason: () => this.endReason ?? 'client ended the session',
      originOf: (rawId) => this.originOf(rawId),
      networkTransport: 'tcp',
    });
    this.done = this.proxy.run().then(
      (code) => {
        this.finish(this.endReason ?? `upstream exited (code ${code})`);
        return code;
      },
      (err: Error) => {
        sessionLog(err.message);
        this.finish(`upstream could not start: ${err.message}`);
        return 1;
      },
    );
  }

  /** True once the session was ended or its upstream is gone: requests naming it get 404. */
  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /**
   * Forwards one client message (or batch) to the proxy as one line. Settles once the proxy has taken
   * it in (at once, unless the upstream is not reading its stdin), so a transport can hold its `202`
   * until then and a client cannot pile up messages in memory faster than the upstream reads them.
   */
  deliver(body: Buffer): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.lastActivity = Date.now();
    if (this.hostIn.write(Buffer.concat([oneLine(body), Buffer.from('\n')]))) return Promise.resolve();
    return this.waitFor([this.hostIn]);
  }

  /** Calls `callback` once every response filled by the last chunk has drained (or closed). */
  private afterFull(callback: () => void): void {
    const full = [...this.full].filter((res) => !res.destroyed);
    this.full.clear();
    if (full.length === 0 || this.ended) return callback();
    void this.waitFor(full).then(callback);
  }

  /** Settles when each stream has emitted `drain`, `finish` or `close`, or when the session ends. */
  private waitFor(streams: Array<NodeJS.EventEmitter>): Promise<void> {
    return new Promise((resolve) => {
      let left = streams.length;
      const cleanups: Array<() => void> = [];
      const release = (): void => {
        this.waits.delete(release);
        for (const cleanup of cleanups) cleanup();
        resolve();
      };
      for (const stream of streams) {
        const events = ['drain', 'finish', 'close'];
        const off = (): void => {
          for (const event of events) stream.off(event, one);
        };
        const one = (): void => {
          off();
          if (--left === 0) release();
        };
        for (const event of events) stream.on(event, one);
        cleanups.push(off);
      }
      this.waits.add(release);
    });
  }

  /**
   * Ends the session the way a stdio host ends one by closing stdin: held calls are dropped, answers
   * already on their way get the grace period, then the upstream is stopped (stdin closed, SIGTERM,
   * SIGKILL). The session counts as ended at once.
   */
  end(reason: string): void {
    if (this.ended) return;
    this.finish(reason);
    this.hostIn.end();
  }

  /**
   * The front got SIGINT/SIGTERM: the ProxySession's own signal stop (a second call kills the
   * upstream's process group). Before the upstream has started there is nothing to signal, so the
   * host input is ended instead and the session stops as soon as the spawn completes.
   */
  stop(signal: NodeJS.Signals): void {
    if (!this.ended) this.finish(`proxy received ${signal}`);
    if (!this.proxy.stop(signal)) this.hostIn.end();
  }

  private serverLine(line: Buffer): void {
    if (this.ended) return; // the client is gone; the upstream is being stopped
    const kind = lineKind(line);
    if (kind !== 'json') {
      if (kind === 'not-json')
        this.log(
          `the upstream wrote a line that is not JSON on stdout; not sent to the client: ${JSON.stringify(line.subarray(0, 200).toString('utf8'))}${line.length > 200 ? '…' : ''}`,
        );
      return;
    }
    try {
      const full = this.onServerLine(line);
      if (full) this.full.add(full);
    } catch (err) {
      // A routing bug must not take the whole front down with it.
      this.proxy.stop('SIGTERM');
      this.finish(`internal error: ${(err as Error).message}`);
    }
  }

  private finish(reason: string): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    for (const release of [...this.waits]) release();
    this.onEnded(reason);
  }
}
