/**
 * The HTTP front of `ratri mcp proxy --transport http|sse`: one HTTP server that checks every
 * request (Host, Origin, bearer token), routes it to Streamable HTTP (`/mcp`) or legacy SSE
 * (`/sse`, `/messages`), and keeps the registry of sessions — each with its own upstream child
 * behind a full ProxySession — with a size cap, idle reaping and an orderly stop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { ProxyErrorCode } from '../jsonrpc/errors.js';
import type { StopBudget } from '../session/stop-clock.js';
import { answerPreflight, type BodyPolicy, checkRequest, type Refusal, refuse, type SecurityOptions } from './http-security.js';
import { HttpSession } from './http-session.js';
import { LegacySseTransport } from './legacy-sse.js';
import { type FrontContext, StreamableHttpTransport } from './streamable-http.js';

export interface HttpFrontOptions {
  config: ProxyConfig;
  /**
   * The control plane every session uses: one store connection (or one API client and outbox) for
   * the whole front, not one per session. The caller opens it and closes it after `stop()`.
   */
  controlPlane: ControlPlane;
  /** Which transports to serve (at least one). */
  streamableHttp: boolean;
  legacySse: boolean;
  host: string;
  /** 0 picks a free port; `HttpFront.port` tells which. */
  port: number;
  allowedOrigins: string[];
  authToken?: string;
  /** A Streamable HTTP session with no open stream, no unanswered request and no request for this long is ended. */
  sessionIdleMs: number;
  maxSessions: number;
  /** The longest request body accepted (413 beyond, naming `setting`), and how long it may take to come (408 beyond). */
  body: BodyPolicy;
  /** How long a client may take to send a request's headers. */
  headersTimeoutMs: number;
  log(message: string): void;
  stopBudget?: StopBudget;
}

/** The port could not be bound; the message says which and why. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export class HttpFront {
  private readonly sessions = new Map<string, HttpSession>();
  /** Every session whose upstream may still be running, including ended ones still stopping. */
  private readonly running = new Set<HttpSession>();
  private readonly streamable: StreamableHttpTransport;
  private readonly legacy: LegacySseTransport;
  private readonly security: SecurityOptions;
  private reaper: NodeJS.Timeout | undefined;
  private stopping: NodeJS.Signals | undefined;

  private constructor(
    private readonly options: HttpFrontOptions,
    private readonly server: Server,
  ) {
    const context: FrontContext = {
      body: options.body,
      strict: options.config.mode === 'enforce',
      createSession: (transport, id) => this.createSession(transport, id),
      session: (id) => {
        const session = this.sessions.get(id);
        return session && !session.ended ? session : undefined;
      },
      log: options.log,
    };
    this.streamable = new StreamableHttpTransport(context);
    this.legacy = new LegacySseTransport(context);
    this.security = { host: options.host, port: 0, allowedOrigins: options.allowedOrigins, authToken: options.authToken };
  }

  /** Binds the server; rejects with ListenError when the address cannot be bound. */
  static async start(options: HttpFrontOptions): Promise<HttpFront> {
    // Slowloris: headers that do not come in time get 408 and the connection is closed. Node checks
    // every `connectionsCheckingInterval`, so that is kept well below the limit. The request timeout
    // ends when the request has been received, so it never cuts an SSE response.
    const server = createServer({
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.headersTimeoutMs + options.body.timeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, options.headersTimeoutMs / 4)),
    });
    const front = new HttpFront(options, server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      front.handle(req, res).catch((err: Error) => {
        options.log(`internal error on ${req.method} ${req.url}: ${err.stack ?? err.message}`);
        refuse(res, { status: 500, message: 'Internal Server Error' }, ProxyErrorCode.upstreamExited);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the address is already in use; pick another --port (0 picks a free one)'
            : err.code === 'EACCES'
              ? 'permission denied (ports below 1024 need privileges)'
              : err.message;
        reject(new ListenError(`cannot listen on ${options.host}:${options.port}: ${why}`));
      });
      server.listen(options.port, options.host, () => resolve());
    });
    front.security.port = (server.address() as AddressInfo).port;
    const every = Math.max(50, Math.min(options.sessionIdleMs / 4, 10_000));
    front.reaper = setInterval(() => front.reapIdle(), every);
    front.reaper.unref();
    return front;
  }

  /** The port actually bound. */
  get port(): number {
    return this.security.port;
  }

  /** The base URL clients use, e.g. `http://127.0.0.1:3100`. */
  get baseUrl(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.port}`;
  }

  /** Live sessions (not ended). */
  get sessionCount(): number {
    return [...this.sessions.values()].filter((s) => !s.ended).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = checkRequest(req, this.security);
    if (refusal) return refuse(res, refusal);
    if (this.stopping)
      return refuse(res, { status: 503, message: 'Service Unavailable: ratri is shutting down', headers: { Connection: 'close' } });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') return answerPreflight(req, res);
    if (url.pathname === '/mcp' && this.options.streamableHttp) return this.streamable.handle(req, res);
    if (url.pathname === '/sse' && this.options.legacySse) return this.legacy.openStream(req, res);
    if (url.pathname === '/messages' && this.options.legacySse) return this.legacy.postMessage(req, res, url);
    const served = [this.options.streamableHttp ? '/mcp' : '', this.options.legacySse ? '/sse and /messages' : '']
      .filter(Boolean)
      .join(', ');
    refuse(res, { status: 404, message: `Not Found: ${url.pathname} (this server answers on ${served})` });
  }

  private createSession(transport: 'http' | 'sse', id: string): HttpSession | Refusal {
    if (this.stopping) return { status: 503, message: 'Service Unavailable: ratri is shutting down' };
    for (const [key, session] of this.sessions) if (session.ended) this.sessions.delete(key);
    if (this.sessions.size >= this.options.maxSessions) {
      return {
        status: 503,
        message: `Service Unavailable: ${this.sessions.size} sessions are open, the most --max-sessions allows; end one (DELETE /mcp) or retry later`,
        headers: { 'Retry-After': '5' },
      };
    }
    const session = new HttpSession({
      id,
      transport,
      config: this.options.config,
      controlPlane: this.options.controlPlane,
      log: this.options.log,
      stopBudget: this.options.stopBudget,
    });
    this.sessions.set(id, session);
    this.running.add(session);
    void session.done.then(() => {
      this.running.delete(session);
      this.sessions.delete(id);
    });
    return session;
  }

  /**
   * Ends Streamable HTTP sessions nobody has used for `sessionIdleMs`: no request, no open stream,
   * no unanswered request (legacy sessions end with their stream).
   */
  private reapIdle(): void {
    const now = Date.now();
    for (const session of this.sessions.values()) {
      if (session.ended || session.transport !== 'http' || session.openStreams > 0 || session.hasUnanswered()) continue;
      if (now - session.lastActivity > this.options.sessionIdleMs) {
        this.options.log(`session ${session.id.slice(0, 8)}: idle for ${now - session.lastActivity} ms; ending it`);
        session.end(`idle for more than ${this.options.sessionIdleMs} ms`);
      }
    }
  }

  /**
   * SIGINT/SIGTERM: stop taking requests, stop every session's upstream (a second call kills them),
   * and resolve once every upstream is gone and the server is closed.
   */
  async stop(signal: NodeJS.Signals): Promise<void> {
    this.stopping = signal;
    clearInterval(this.reaper);
    for (const session of this.running) session.stop(signal);
    this.server.close();
    this.server.closeIdleConnections();
    await Promise.all([...this.running].map((s) => s.done));
    this.server.closeAllConnections();
  }
}
