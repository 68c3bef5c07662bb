/**
 * Which MCP protocol era a request belongs to, read from the request itself. The 2026-07-28
 * revision is stateless: every request carries its protocol version in
 * `params._meta["io.modelcontextprotocol/protocolVersion"]`, so the era is a property of each
 * request, not of a session (docs/protocol-eras.md). A request without that key, or with a value
 * that is not a revision date, is 2025-era: that keeps today's behaviour for every existing client.
 */
import { Message } from './message.js';

/** The `_meta` key a 2026-07-28 request names its protocol version under. */
export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';

/** The first revision of the modern era. Revisions are ISO dates, so later ones compare greater. */
export const FIRST_MODERN_PROTOCOL_VERSION = '2026-07-28';

export type ProtocolEra = 'legacy' | 'modern';

const REVISION_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The protocol version a request's `_meta` names, or undefined when it names none. */
export function requestProtocolVersion(message: unknown): string | undefined {
  if (!Message.isObject(message) || !Message.isObject(message.params)) return undefined;
  const meta = message.params._meta;
  if (!Message.isObject(meta)) return undefined;
  const version = meta[PROTOCOL_VERSION_META_KEY];
  return typeof version === 'string' ? version : undefined;
}

/** Whether a protocol version string is a modern-era revision (2026-07-28 or later). */
export function isModernVersion(version: string | undefined): boolean {
  return version !== undefined && REVISION_DATE.test(version) && version >= FIRST_MODERN_PROTOCOL_VERSION;
}

/** The era of one parsed JSON-RPC request: modern when its `_meta` names a 2026-07-28-or-later revision. */
export function protocolEra(message: unknown): ProtocolEra {
  return isModernVersion(requestProtocolVersion(message)) ? 'modern' : 'legacy';
}
