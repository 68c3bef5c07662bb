/**
 * One record per tool call (docs/events.md#one-record-per-call). Telemetry queues a call as a single
 * internal `agent.tool.call` event that carries its parts (the decision, the start, the result-phase
 * decision, the end) instead of three or four events; the embedded store keeps it as one row of the
 * `calls` table. Every reader, the JSONL file and the remote API still see the events of the call,
 * as before: this file turns a call back into them, with ids derived from the call's id.
 */
import { EventType, type RatriEvent } from './event.js';
import { isoTime } from './iso-time.js';

/** The queue's type for a call record; never shown to a reader (they get `eventsOfCall`). */
export const CALL_EVENT_TYPE = 'agent.tool.call';

export type CallPartKind = 'guard' | 'started' | 'result' | 'ended';

/** One event of a call, as recorded: its kind, time (ms since the epoch) and fields after the call's own. */
export interface CallPart {
  k: CallPartKind;
  ts: number;
  f: Record<string, unknown>;
  /** The event's number in the store (set when it is stored). */
  seq?: number;
}

/** The `data` of a queued call record. */
export interface CallData {
  /** The fields every event of the call starts with: tool, requestId, action, resource, riskLevel (round, firstCallId). */
  base: Record<string, unknown>;
  /** Redacted; in `agent.tool.started` only. */
  arguments: unknown;
  /** The parts recorded since the call was last written, in the order they happened. */
  parts: CallPart[];
}

export interface CallEvent extends Omit<RatriEvent, 'type' | 'data'> {
  type: typeof CALL_EVENT_TYPE;
  data: CallData;
}

export function isCallEvent(event: { type: string }): event is CallEvent {
  return event.type === CALL_EVENT_TYPE;
}

/** The id's last hex digit names the event of a call: 0 for the call itself, then one per kind. */
const KIND_DIGIT: Record<CallPartKind, string> = { guard: '1', started: '2', result: '3', ended: '4' };

/** A call id: an event id whose last hex digit is 0, so the ids of its events can be derived from it. */
export function asCallId(eventId: string): string {
  return `${eventId.slice(0, -1)}0`;
}

/** The id of one event of a call. */
export function partEventId(callId: string, kind: CallPartKind): string {
  return `${callId.slice(0, -1)}${KIND_DIGIT[kind]}`;
}

/** The event type of a part. */
export function partEventType(part: CallPart): RatriEvent['type'] {
  switch (part.k) {
    case 'guard':
    case 'result':
      return EventType.guardrailEvaluated;
    case 'started':
      return EventType.toolStarted;
    case 'ended':
      return part.f.error !== undefined || part.f.isError === true ? EventType.toolFailed : EventType.toolCompleted;
  }
}

/** The event a part stands for, with the data it had when it was its own event. */
export function partEvent(
  head: Omit<RatriEvent, 'id' | 'type' | 'ts' | 'data'>,
  callId: string,
  data: Pick<CallData, 'base' | 'arguments'>,
  part: CallPart,
): RatriEvent {
  const fields: Record<string, unknown> = {};
  for (const key in data.base) fields[key] = data.base[key];
  if (part.k === 'started') fields.arguments = data.arguments;
  for (const key in part.f) fields[key] = part.f[key];
  return {
    id: partEventId(callId, part.k),
    type: partEventType(part),
    ts: isoTime(part.ts),
    agentKey: head.agentKey,
    environment: head.environment,
    serverName: head.serverName,
    sessionId: head.sessionId,
    data: fields,
  };
}

/** The events a queued call record stands for, in order. */
export function eventsOfCall(call: CallEvent): RatriEvent[] {
  return call.data.parts.map((part) => partEvent(call, call.id, call.data, part));
}

/** A batch with every call record replaced by its events (for sinks that store events: JSONL, the API). */
export function expandCalls(batch: readonly (RatriEvent | CallEvent)[]): RatriEvent[] {
  const out: RatriEvent[] = [];
  for (const e of batch) {
    if (isCallEvent(e)) for (const part of eventsOfCall(e)) out.push(part);
    else out.push(e);
  }
  return out;
}
