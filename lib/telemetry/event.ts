/** The event model (docs/events.md; schema: schemas/event.schema.json). */
import type { CallEvent } from './call-event.js';

export const EventType = {
  sessionStarted: 'mcp.session.started',
  sessionEnded: 'mcp.session.ended',
  toolsRegistered: 'mcp.tools.registered',
  toolDefinitionChanged: 'mcp.tool.definition_changed',
  toolStarted: 'agent.tool.started',
  toolCompleted: 'agent.tool.completed',
  toolFailed: 'agent.tool.failed',
  guardrailEvaluated: 'agent.guardrail.evaluated',
  approvalRequested: 'agent.approval.requested',
  approvalResolved: 'agent.approval.resolved',
  /** Something the proxy noticed that a human should know (a malformed frame forwarded in monitor mode…). */
  proxyWarning: 'proxy.warning',
} as const;

export type EventType = (typeof EventType)[keyof typeof EventType];

export interface RatriEvent {
  id: string;
  type: EventType;
  ts: string;
  agentKey: string;
  environment: string;
  serverName: string;
  sessionId: string;
  data: Record<string, unknown>;
}

/** What the queue holds: events, and tool calls as one record each (call-event.ts). */
export type QueuedEvent = RatriEvent | CallEvent;

/** Where events go. */
export interface EventSink {
  /** Writes one batch; a rejected promise counts the batch as failed (the queue does not retry). */
  write(events: RatriEvent[]): Promise<void>;
  /** A sink that stores call records itself (the embedded store) takes the queue's batch as it is; the others get each call's events. */
  writeCalls?(events: QueuedEvent[]): Promise<void>;
  /** Flushes and releases the sink. */
  close(): Promise<void>;
}
