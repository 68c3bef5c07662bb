/**
 * The checks every HTTP request to the front passes before it reaches a transport: the Host header
 * (DNS rebinding), Origin and Sec-Fetch-Site (pages of other sites; both by lib/net/loopback.ts),
 * the bearer token, and the body's size and time limits; plus the JSON-RPC-shaped error body every
 * refusal carries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyErrorCode } from '../jsonrpc/errors.js';
import { readRequestBody } from '../net/http-body.js';
import { crossSiteProblem, foreignHost, isLoopback } from '../net/loopback.js';

/** What the security checks need to know about the front. */
export interface SecurityOptions {
  /** The address the server is bound to (`127.0.0.1`, `::1`, `0.0.0.0`, a name…). */
  host: string;
  /** The port actually bound (after `--port 0` picked one). */
  port: number;
  /** Extra origins (`https://app.example.com`) allowed besides the loopback ones. */
  allowedOrigins: string[];
  /** The bearer token clients must send; undefined: no token needed. */
  authToken?: string;
}

/** A refusal: an HTTP status, a message for the JSON-RPC error body, and extra headers. */
export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * The JSON-RPC-style body of every refusal. `id` is null: the refusal happens before (or instead
 * of) reading a message, so there is no request id to echo. Codes come from lib/jsonrpc/errors.ts.
 */
export function errorBody(message: string, code: ProxyErrorCode = ProxyErrorCode.httpRefused): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Sends a refusal (or any JSON-RPC-style error) and ends the response. */
export function refuse(res: ServerResponse, refusal: Refusal, code: ProxyErrorCode = ProxyErrorCode.httpRefused): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = errorBody(refusal.message, code);
  res.writeHead(refusal.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...refusal.headers,
  });
  res.end(body);
}

/** Answers with a JSON-RPC error message that names the request's id (a refusal of one request). */
export function answerError(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/**
 * DNS rebinding protection: a page on evil.example whose name is re-pointed at 127.0.0.1 sends
 * `Host: evil.example`. When bound to loopback, only loopback names with our port are accepted
 * (lib/net/loopback.ts). Bound to another address the operator chose to expose the server (and
 * must set a token, see `ratri mcp proxy --host`), so any Host is accepted.
 */
function checkHost(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  if (!isLoopback(options.host)) return undefined;
  const problem = foreignHost(req.headers.host, options.port);
  return problem ? { status: 421, message: `Misdirected Request: ${problem}` } : undefined;
}

/**
 * A present Origin must be a loopback origin (any port) or one of `--allowed-origin`; a request
 * without one that a browser marks cross-site (an `<img src=".../sse">`) is refused too, before it
 * can start a session and its upstream.
 */
function checkOrigin(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  const problem = crossSiteProblem(req, { origins: 'loopback', allowedOrigins: options.allowedOrigins });
  return problem ? { status: 403, message: `Forbidden: ${problem} (see --allowed-origin)` } : undefined;
}

/** Digests are compared, not the tokens: timingSafeEqual needs equal lengths and must not leak the length. */
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function checkAuth(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  if (options.authToken === undefined) return undefined;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const presented = match?.[1]?.trim() ?? '';
  if (presented !== '' && timingSafeEqual(digest(presented), digest(options.authToken))) return undefined;
  return {
    status: 401,
    message: header === '' ? 'Unauthorized: a bearer token is required' : 'Unauthorized: wrong bearer token',
    headers: { 'WWW-Authenticate': `Bearer realm="ratri"${header === '' ? '' : ', error="invalid_token"'}` },
  };
}

/** Runs the checks in the order that leaks the least: Host, then Origin, then the token. */
export function checkRequest(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  return checkHost(req, options) ?? checkOrigin(req, options) ?? checkAuth(req, options);
}

/** CORS headers for an allowed browser origin, so a local web client can read Mcp-Session-Id. */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': 'Mcp-Session-Id, MCP-Protocol-Version',
    Vary: 'Origin',
  };
}

/** Answers a CORS preflight (the request already passed the Origin check). */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    ...corsHeaders(req),
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers':
      'Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** How large a request body may be, which setting says so (for the 413), and how long it may take to come. */
export interface BodyPolicy {
  maxBytes: number;
  /** Names the setting that applies, e.g. `maxFrameBytes in the config`. */
  setting: string;
  timeoutMs: number;
}

/**
 * Reads a request body; resolves undefined (after answering 413 or 408) when it is longer than
 * allowed or does not arrive in time, or when the client went away.
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, policy: BodyPolicy): Promise<Buffer | undefined> {
  const read = await readRequestBody(req, { limit: policy.maxBytes, timeoutMs: policy.timeoutMs });
  if (read.kind === 'body') return read.body;
  // Connection: close ends the upload still under way once the answer is sent.
  if (read.kind === 'too-large') {
    refuse(res, {
      status: 413,
      message: `Payload Too Large: the body exceeds ${policy.maxBytes} bytes (${policy.setting})`,
      headers: { Connection: 'close' },
    });
  } else if (read.kind === 'timeout') {
    refuse(res, {
      status: 408,
      message: `Request Timeout: the body did not arrive within ${read.timeoutMs} ms (--request-timeout-ms)`,
      headers: { Connection: 'close' },
    });
  }
  return undefined;
}
