/**
 * The dashboard's HTTP server (docs/dashboard.md): the page, its script and style, and a small JSON
 * API over the embedded store. Plain `node:http`. A page on any web site could make the user's
 * browser send requests to this server, so every request must name our own address in `Host` (no
 * DNS rebinding), every `/api/` request must carry the per-run token the page embeds, and one whose
 * `Origin` is another site's is refused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { alwaysNote, approvedNote } from '../control/always-note.js';
import type { ApprovalScope } from '../control/control-plane.js';
import type { LocalControlPlane } from '../control/local-control-plane.js';
import { isoTime } from '../control/store.js';
import { readRequestBody } from '../net/http-body.js';
import { crossSiteProblem, foreignHost, isJsonContentType } from '../net/loopback.js';
import { CallTable } from './calls.js';
import { CLIENT_JS } from './client.js';
import { PAGE_CSS, renderPage } from './page.js';

/** What the dashboard serves, and how. */
export interface DashboardOptions {
  plane: LocalControlPlane;
  /** The token `/api/` requests must send in `X-Ratri-Token`; random by default. */
  token?: string;
  /** The most events read from the store at once (default 5000). */
  batchEvents?: number;
  /** The most calls kept in memory (default 2000). */
  maxCalls?: number;
}

/** The server (not yet listening) and the token its page sends back. */
export interface Dashboard {
  server: Server;
  token: string;
}

/** The header the page sends its token in. */
export const TOKEN_HEADER = 'x-ratri-token';

/** Every answer's security headers: no inline script, no framing (clickjacking), no sniffing. */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const MAX_BODY_BYTES = 4096;

class Problem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void =>
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');

async function readBody(req: IncomingMessage): Promise<unknown> {
  const read = await readRequestBody(req, { limit: MAX_BODY_BYTES, hangUpAboveBytes: 1024 * 1024 });
  if (read.kind === 'too-large') throw new Problem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  if (read.kind === 'timeout') throw new Problem(408, `the body did not arrive within ${read.timeoutMs} ms`);
  if (read.kind === 'aborted') throw new Error(`reading the request body: ${read.reason}`);
  try {
    return read.body.length === 0 ? {} : JSON.parse(read.body.toString('utf8'));
  } catch {
    throw new Problem(400, 'the body is not JSON');
  }
}

/** Creates the dashboard's server over `plane`'s store. */
export function createDashboardServer(options: DashboardOptions): Dashboard {
  const { plane } = options;
  const token = options.token ?? randomBytes(32).toString('hex');
  const tokenHash = sha256(token);
  const calls = new CallTable(options.maxCalls ?? 2000);
  const batch = options.batchEvents ?? 5000;
  /** Why `Host` does not name this dashboard (DNS rebinding), by the rule every ratri server uses (lib/net/loopback.ts). */
  const hostProblem = (header: string | undefined): string | undefined => {
    const address = server.address();
    if (!address || typeof address === 'string') return 'the dashboard is not listening';
    return foreignHost(header, address.port);
  };

  /** Refuses what a page of another site could send: a foreign Origin, a cross-site fetch, no token. */
  const guardApi = (req: IncomingMessage): void => {
    const crossSite = crossSiteProblem(req, { origins: 'same-origin' });
    if (crossSite) throw new Problem(403, crossSite);
    const sent = req.headers[TOKEN_HEADER];
    if (typeof sent !== 'string' || !timingSafeEqual(sha256(sent), tokenHash)) {
      throw new Problem(403, 'missing or wrong X-Ratri-Token header: use the dashboard page');
    }
  };

  const readCalls = (query: URLSearchParams): unknown => {
    const raw = query.get('afterSeq') ?? '0';
    if (!/^\d{1,15}$/.test(raw)) throw new Problem(400, 'afterSeq must be a whole number');
    calls.add(plane.eventStore.query({ type: 'agent.*', afterSeq: calls.lastSeq, limit: batch }));
    const afterSeq = Number(raw);
    // A client ahead of the store (a new store under the same path) starts over.
    const reset = afterSeq > calls.lastSeq;
    return { seq: calls.lastSeq, reset, calls: calls.changedSince(reset ? 0 : afterSeq) };
  };

  const resolve = async (req: IncomingMessage, id: string): Promise<unknown> => {
    if (!isJsonContentType(req)) throw new Problem(415, 'send the body as application/json');
    const body = (await readBody(req)) as { approve?: unknown; scope?: unknown } | null;
    if (typeof body !== 'object' || body === null || typeof body.approve !== 'boolean') {
      throw new Problem(400, 'the body must be {"approve": true|false, "scope": "once"|"always"}');
    }
    if (body.scope !== undefined && body.scope !== 'once' && body.scope !== 'always')
      throw new Problem(400, 'scope must be "once" or "always"');
    const scope: ApprovalScope = body.approve && body.scope === 'always' ? 'always' : 'once';
    const result = plane.resolveApprovalNow(id, body.approve, scope, 'dashboard');
    if (!result) throw new Problem(404, `no approval "${id}"`);
    if (!result.changed) {
      const a = result.approval;
      throw new Problem(409, `${a.id} was already ${a.status}${a.resolvedBy ? ` by ${a.resolvedBy}` : ''}; nothing changed`, {
        approval: a,
      });
    }
    const approved = body.approve ? { approvedNote: approvedNote(result.approval, result.grant) } : {};
    return scope === 'always' ? { ...result, ...approved, note: alwaysNote(result.approval, result.grant) } : { ...result, ...approved };
  };

  const api = async (req: IncomingMessage, url: URL): Promise<unknown> => {
    guardApi(req);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/api/calls') return readCalls(url.searchParams);
    if (req.method === 'GET' && path === '/api/approvals') return { now: isoTime(), approvals: plane.approvals.list('pending') };
    if (req.method === 'GET' && path === '/api/tools') return { tools: plane.tools.list() };
    if (req.method === 'GET' && path === '/api/grants') return { grants: plane.grants.list() };
    const resolveMatch = /^\/api\/approvals\/([A-Za-z0-9_-]{1,64})\/resolve$/.exec(path);
    if (req.method === 'POST' && resolveMatch) return resolve(req, resolveMatch[1]!);
    if (['/api/calls', '/api/approvals', '/api/tools', '/api/grants'].includes(path) || resolveMatch)
      throw new Problem(405, `${req.method} is not allowed here`);
    throw new Problem(404, `no such endpoint: ${path}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const foreign = hostProblem(req.headers.host);
    // DNS rebinding: a foreign name that resolves to this machine. Answered without the page or its token.
    if (foreign) return sendJson(res, 421, { error: foreign });
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (url.pathname.startsWith('/api/')) {
      try {
        sendJson(res, 200, await api(req, url));
      } catch (err) {
        if (err instanceof Problem && err.status === 408) res.setHeader('Connection', 'close'); // the rest of that body is not awaited
        if (err instanceof Problem) return sendJson(res, err.status, { error: err.message, ...err.extra });
        sendJson(res, 500, { error: `the dashboard failed: ${(err as Error).message}` });
      }
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: `${req.method} is not allowed here` });
    switch (url.pathname) {
      case '/':
        return send(res, 200, renderPage({ token, store: plane.location }), 'text/html; charset=utf-8');
      case '/app.js':
        return send(res, 200, CLIENT_JS, 'text/javascript; charset=utf-8');
      case '/app.css':
        return send(res, 200, PAGE_CSS, 'text/css; charset=utf-8');
      case '/favicon.ico':
        res.writeHead(204, SECURITY_HEADERS);
        return void res.end();
      default:
        return send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: `the dashboard failed: ${err.message}` });
      else res.destroy();
    });
  });
  return { server, token };
}
