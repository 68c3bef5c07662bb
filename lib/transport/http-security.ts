/**
 * The checks every HTTP request to the front passes before it reaches a transport: the Host header
 * (DNS rebinding), the Origin header (browsers on foreign sites), the bearer token, and the body
 * size limit; plus the JSON-RPC-shaped error body every refusal carries.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody } from '../http-body.js';

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

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/** True when the server listens only on this machine, so the Host header must name this machine too. */
export function isLoopbackBind(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\./.test(host);
}

/**
 * The JSON-RPC-style body of every refusal. `id` is null: the refusal happens before (or instead
 * of) reading a message, so there is no request id to echo.
 */
export function errorBody(message: string, code = -32000): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Sends a refusal (or any JSON-RPC-style error) and ends the response. */
export function refuse(res: ServerResponse, refusal: Refusal, code = -32000): void {
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

/**
 * DNS rebinding protection: a page on evil.example whose name is re-pointed at 127.0.0.1 sends
 * `Host: evil.example`. When bound to loopback, only loopback names (and our port) are accepted.
 * Bound to another address the operator chose to expose the server, so any Host is accepted.
 */
function checkHost(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  if (!isLoopbackBind(options.host)) return undefined;
  const header = req.headers.host ?? '';
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header);
  const name = match?.[1]?.toLowerCase();
  const port = match?.[2];
  if (name && LOOPBACK_NAMES.has(name) && (port === undefined || Number(port) === options.port)) return undefined;
  return { status: 421, message: `Misdirected Request: Host "${header}" is not this server (bound to ${options.host}:${options.port})` };
}

/** A present Origin must be a loopback origin (any port) or one of `--allowed-origin`. */
function checkOrigin(req: IncomingMessage, options: SecurityOptions): Refusal | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined; // not a browser: nothing to protect against here
  if (LOOPBACK_ORIGIN.test(origin)) return undefined;
  const normalized = origin.toLowerCase().replace(/\/+$/, '');
  if (options.allowedOrigins.some((o) => o.toLowerCase().replace(/\/+$/, '') === normalized)) return undefined;
  return { status: 403, message: `Forbidden: Origin "${origin}" is not allowed (see --allowed-origin)` };
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
    'Access-Control-Allow-Headers': 'Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

/** Reads a request body up to `limit` bytes; resolves undefined (after answering 413) when it is longer, or when the client went away. */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | undefined> {
  const read = await readRequestBody(req, { limit });
  if (read.kind === 'body') return read.body;
  if (read.kind === 'too-large') {
    // Connection: close ends the upload still under way once the answer is sent.
    refuse(res, { status: 413, message: `Payload Too Large: the body exceeds ${limit} bytes (maxFrameBytes)`, headers: { Connection: 'close' } });
  }
  return undefined;
}
