/**
 * Reads a W3C `traceparent` from a request's `params._meta` (docs/opentelemetry.md#trace-context),
 * so that ratri's span for the request joins the host's trace, and makes the traceparent of
 * ratri's own span. Only reads: the forwarded bytes stay as they were.
 */
import { randomBytes } from 'node:crypto';
import { Message } from './message.js';

/** version-traceid-parentid-flags, lower-case hex (https://www.w3.org/TR/trace-context/#traceparent-header). */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface RemoteParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** The request's `params._meta.traceparent`, when it is a valid one. */
export function traceparentOf(message: unknown): string | undefined {
  if (!Message.isObject(message) || !Message.isObject(message.params)) return undefined;
  const meta = message.params._meta;
  if (!Message.isObject(meta)) return undefined;
  const value = typeof meta.traceparent === 'string' ? meta.traceparent : undefined;
  return parseTraceparent(value) ? value : undefined;
}

/** The parent a `traceparent` names; undefined when malformed or all-zero (invalid by the spec). */
export function parseTraceparent(value: string | undefined): RemoteParent | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value);
  const [, traceId = '', spanId = '', flags = ''] = m ?? [];
  if (!m || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}

/**
 * The traceparent of a new span whose parent is `parent` (a valid traceparent, or none): the same
 * trace and flags with a new span id, or a new sampled trace. It names ratri's own span for a call,
 * sent to the control plane (docs/opentelemetry.md#across-the-control-plane).
 */
export function childTraceparent(parent: string | undefined): string {
  const from = parseTraceparent(parent);
  const traceId = from?.traceId ?? randomBytes(16).toString('hex');
  const flags = (from?.traceFlags ?? 1).toString(16).padStart(2, '0');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}
