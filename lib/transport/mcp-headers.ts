/**
 * The 2026-07-28 Streamable HTTP request headers that mirror the body — `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` — checked against the body as the upstream will read it. Load balancers,
 * gateways and logs route on these headers without reading the body, so in enforce mode a POST
 * whose headers say one thing while its body says another is refused with `-32020` HeaderMismatch
 * before anything is forwarded; monitor mode logs the same finding and forwards (docs/http.md,
 * "Headers are part of what the policy reads").
 */
import type { IncomingMessage } from 'node:http';
import { Message } from '../jsonrpc/message.js';
import { PROTOCOL_VERSION_META_KEY } from '../jsonrpc/protocol-era.js';

/** The body member `Mcp-Name` mirrors, per method (the spec's table, plus the tasks binding). */
const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const BASE64_SENTINEL = /^=\?base64\?((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)\?=$/;

/** One header as sent: Node joins a repeated custom header with ", ", so two differing copies never match. */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value?.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** An `Mcp-Name` value decoded (`=?base64?…?=` carries UTF-8); undefined when the sentinel is malformed. */
function decodeName(value: string): string | undefined {
  if (!value.startsWith('=?base64?')) return value;
  const match = BASE64_SENTINEL.exec(value);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1]!, 'base64');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function nameProblem(
  req: IncomingMessage,
  method: string,
  params: Record<string, unknown> | undefined,
  required: boolean,
): string | undefined {
  const header = headerOf(req, 'mcp-name');
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (field === undefined) {
    return header === undefined ? undefined : `the Mcp-Name header is "${header}" but ${method} has no name to mirror; drop the header`;
  }
  const body = params?.[field];
  if (header === undefined) {
    return required && typeof body === 'string'
      ? `the body carries params.${field} ${JSON.stringify(body)} but the required Mcp-Name header is missing`
      : undefined;
  }
  const decoded = decodeName(header);
  if (decoded === undefined) return `the Mcp-Name header "${header}" is not valid =?base64?…?= encoding`;
  if (decoded !== body) {
    const what = typeof body === 'string' ? JSON.stringify(body) : 'no string';
    return `the Mcp-Name header names ${JSON.stringify(decoded)} but the body carries ${what} in params.${field}`;
  }
  return undefined;
}

/**
 * Why the headers of a POST carrying `message` disagree with it, or undefined when they agree.
 * `modern`: a 2026-07-28 message, whose requests must carry `MCP-Protocol-Version` and
 * `Mcp-Method` (and `Mcp-Name` where the method names something); on 2025-era traffic only headers
 * that are present are compared.
 */
export function headerMismatch(req: IncomingMessage, message: unknown, modern: boolean): string | undefined {
  if (!Message.hasMethod(message)) return undefined;
  const required = modern && Message.isRequest(message);
  const params = Message.isObject(message.params) ? message.params : undefined;
  const meta = Message.isObject(params?._meta) ? params._meta : undefined;
  const version = headerOf(req, 'mcp-protocol-version');
  const claimed = meta?.[PROTOCOL_VERSION_META_KEY];
  if (version === undefined && required)
    return `the body names protocol version ${JSON.stringify(claimed)} but the required MCP-Protocol-Version header is missing`;
  if (version !== undefined && typeof claimed === 'string' && version !== claimed)
    return `the MCP-Protocol-Version header is "${version}" but the body's _meta names ${JSON.stringify(claimed)}`;
  const method = headerOf(req, 'mcp-method');
  if (method === undefined && required)
    return `the body names method ${JSON.stringify(message.method)} but the required Mcp-Method header is missing`;
  if (method !== undefined && method !== message.method)
    return `the Mcp-Method header is "${method}" but the body names method ${JSON.stringify(message.method)}`;
  return nameProblem(req, message.method, params, required);
}

/** Whether a POST carries any of the mirrored headers (a batch cannot be named by them). */
export function hasMirroredHeaders(req: IncomingMessage): boolean {
  return headerOf(req, 'mcp-method') !== undefined || headerOf(req, 'mcp-name') !== undefined;
}
