/**
 * Builds events for the proxy. Every event is redacted here, when it is created, before any sink can
 * see it; then it goes into the queue and this returns at once.
 */
import { randomUUID } from 'node:crypto';
import type { PolicyVerdict } from '../policy/policy-hook.js';
import type { ToolAnnotations, ToolDefinition } from '../policy/tool-catalog.js';
import { EventType, type RatriEvent } from './event.js';
import type { EventQueue } from './event-queue.js';
import { inferAction, inferResource, riskLevel, type Action, type Resource, type RiskLevel } from './infer.js';
import { makeRedactor, type Redactor } from './redact.js';

export interface SessionIdentity {
  agentKey: string;
  environment: string;
  serverName: string;
  sessionId: string;
}

/** What telemetry remembers about one tools/call from request to answer. */
export interface ToolCallRecord {
  /** The JSON-RPC id, as the host wrote it. */
  requestId: string;
  tool: string;
  namespacedTool: string;
  action: Action;
  resource: Resource | undefined;
  riskLevel: RiskLevel;
  /** Redacted arguments. */
  arguments: unknown;
  argumentsSize: number;
  startedAt: number;
}

export class Telemetry {
  /** For payloads (arguments): redacts and cuts long strings. */
  private readonly redact: Redactor;
  /** For whole events, as a last safety pass: redacts only. */
  private readonly redactEvent: Redactor;
  private readonly redactKeysSet: boolean;
  private readonly redactToolEventFields: boolean;

  constructor(
    private readonly identity: SessionIdentity,
    private readonly queue: EventQueue,
    redactKeys: string[],
  ) {
    this.redact = makeRedactor(redactKeys);
    this.redactEvent = makeRedactor(redactKeys, { truncate: false });
    this.redactKeysSet = redactKeys.length > 0;
    this.redactToolEventFields = redactKeys.some((k) => TOOL_EVENT_FIELDS.has(k.toLowerCase()));
  }

  /** False when no sink is configured: then no event is built at all (it would only be thrown away). */
  get enabled(): boolean {
    return this.queue.hasSinks;
  }

  emit(type: EventType, data: Record<string, unknown>): void {
    this.push(type, this.redactKeysSet ? (this.redactEvent(data) as Record<string, unknown>) : data);
  }

  /**
   * For tool-call events: their `arguments` and `resource` were redacted when the record was made,
   * so the whole-event walk is needed only when a redact key names one of the event's own fields
   * (say "message", which an upstream error carries); that is known once, from the key list.
   */
  private emitFromRecord(type: EventType, data: Record<string, unknown>): void {
    this.push(type, this.redactToolEventFields ? (this.redactEvent(data) as Record<string, unknown>) : data);
  }

  private push(type: EventType, data: Record<string, unknown>): void {
    if (!this.queue.hasSinks) return;
    const { agentKey, environment, serverName, sessionId } = this.identity;
    const event: RatriEvent = {
      id: randomUUID(),
      type,
      ts: timestamp(),
      agentKey,
      environment,
      serverName,
      sessionId,
      data,
    };
    this.queue.push(event);
  }

  /** Describes a call once; later events about it reuse the record. */
  describeCall(
    requestId: string,
    tool: string,
    args: Record<string, unknown>,
    annotations: ToolAnnotations | undefined,
    frameBytes: number,
  ): ToolCallRecord {
    const action = inferAction(tool, annotations);
    // Without a sink nothing will read the arguments: skip copying them.
    const redacted = this.queue.hasSinks ? (this.redact(args) as Record<string, unknown>) : {};
    return {
      requestId,
      tool,
      namespacedTool: `${this.identity.serverName}.${tool}`,
      action,
      resource: inferResource(redacted), // from redacted arguments: a redacted path or query stays hidden
      riskLevel: riskLevel(action, annotations),
      arguments: redacted,
      argumentsSize: frameBytes,
      startedAt: performance.now(),
    };
  }

  /**
   * The fields every tool-call event starts with, as a fresh object the caller adds to. (Fields are
   * assigned, not spread: object spread costs several µs per event in Node 20, for every tool call.)
   */
  private callFields(call: ToolCallRecord): Record<string, unknown> {
    return {
      tool: call.namespacedTool,
      requestId: call.requestId,
      action: call.action,
      resource: call.resource ?? null,
      riskLevel: call.riskLevel,
    };
  }

  toolStarted(call: ToolCallRecord): void {
    if (!this.enabled) return;
    const data = this.callFields(call);
    data.arguments = call.arguments;
    data.argumentsSize = call.argumentsSize;
    this.emitFromRecord(EventType.toolStarted, data);
  }

  /** The upstream answered (or the proxy answered for it, with `errorCode` one of its own codes). */
  toolFinished(
    call: ToolCallRecord,
    outcome: { error?: { code: unknown; message: unknown }; isError?: boolean; resultSize: number; uninspected?: boolean },
  ): void {
    if (!this.enabled) return;
    const failed = outcome.error !== undefined || outcome.isError === true;
    const data = this.callFields(call);
    data.durationMs = round(performance.now() - call.startedAt);
    data.argumentsSize = call.argumentsSize;
    data.resultSize = outcome.resultSize;
    if (outcome.error) data.error = outcome.error;
    if (outcome.isError) data.isError = true;
    if (outcome.uninspected) data.uninspected = true;
    this.emitFromRecord(failed ? EventType.toolFailed : EventType.toolCompleted, data);
  }

  guardrailEvaluated(call: ToolCallRecord, verdict: PolicyVerdict, enforced: boolean): void {
    if (!this.enabled) return;
    const data = this.callFields(call);
    data.decision = verdict.decision;
    data.ruleId = verdict.ruleId;
    data.reason = verdict.reason;
    data.latencyMs = round(verdict.latencyMs);
    data.enforced = enforced;
    if (verdict.failure) data.failure = verdict.failure;
    this.emitFromRecord(EventType.guardrailEvaluated, data);
  }

  toolsRegistered(tools: ToolDefinition[], changed: string[]): void {
    this.emit(EventType.toolsRegistered, {
      count: tools.length,
      tools: tools.map((t) => ({
        name: `${this.identity.serverName}.${t.name}`,
        description: t.description ?? null,
        annotations: t.annotations ?? null,
      })),
    });
    for (const name of changed) {
      this.emit(EventType.toolDefinitionChanged, { tool: `${this.identity.serverName}.${name}` });
    }
  }

  warning(kind: string, reason: string, extra: Record<string, unknown> = {}): void {
    this.emit(EventType.proxyWarning, { kind, reason, ...extra });
  }
}

/** Every field name a tool-call event's data can hold, outside its (already redacted) arguments. */
const TOOL_EVENT_FIELDS = new Set(
  ['tool', 'requestId', 'action', 'resource', 'type', 'value', 'riskLevel', 'arguments', 'argumentsSize', 'durationMs',
   'resultSize', 'error', 'code', 'message', 'isError', 'uninspected', 'decision', 'ruleId', 'reason', 'latencyMs',
   'enforced', 'failure'].map((f) => f.toLowerCase()),
);

let lastMs = 0;
let lastIso = '';

/** The ISO time of now, formatted once per millisecond (events come in bursts). */
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function newSessionId(): string {
  return process.env.RATRI_SESSION_ID || randomUUID();
}
