/**
 * Reads a W3C `traceparent` from a request's `params._meta` (docs/opentelemetry.md#trace-context),
 * so that ratri's span for the request joins the host's trace. Only reads: the forwarded bytes stay
 * as they were.
 */
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
