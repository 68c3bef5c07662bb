/**
 * Builds events for the proxy. Every event is redacted here, when it is created, before any sink can
 * see it; then it goes into the queue. Secret values (docs/secrets.md) are redacted last, over the
 * whole event: an event whose text the prefilter passes waits for secretlint, and the events after
 * it wait too, so the queue keeps their order.
 *
 * Building waits for the end of the current turn (a microtask): the frame that caused an event is
 * written first, and the host's or upstream's next bytes are not delayed by event work.
 *
 * A tool call is one record (call-event.ts): its decision, start, result-phase decision and end are
 * parts of it, gathered on the call and queued together when the call ends, or when it is held for
 * approval (then once more when it ends). A part that comes after that (a monitor-mode decision
 * that settles late) is queued on its own, as an update of the same record.
 */
import { randomUUID } from 'node:crypto';
import { childTraceparent, parseTraceparent } from '../jsonrpc/trace-context.js';
import type { PolicyVerdict } from '../policy/policy-hook.js';
import type { ResultVerdict } from '../policy/result-rules.js';
import type { ToolAnnotations, ToolDefinition } from '../policy/tool-catalog.js';
import type { CallOutcome, ListingFields } from '../relay/ports.js';
import type { FindSecrets } from '../secrets/find-secrets.js';
import { findValueSecrets, type JsonSecrets, redactedValue } from '../secrets/json-secrets.js';
import { asCallId, CALL_EVENT_TYPE, type CallEvent, type CallPart, type CallPartKind, partEventType } from './call-event.js';
import { EventType, type QueuedEvent, type RatriEvent } from './event.js';
import { newEventId } from './event-id.js';
import type { EventQueue } from './event-queue.js';
import { type Action, inferAction, inferResource, type Resource, type RiskLevel, riskLevel } from './infer.js';
import { isoTime } from './iso-time.js';
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
  argumentsSize: number;
  startedAt: number;
  /** Inferred and redacted when the first event about the call is built (never before it is forwarded). */
  details?: CallDetails;
  /** The call's arguments as sent, kept only until `details` is made from them. Never put in an event. */
  rawArguments?: Record<string, unknown>;
  annotations?: ToolAnnotations;
  /** Set for the retry of a call answered with `input_required`: its round (2, 3, …) and round 1's request id. */
  round?: number;
  firstCallId?: string;
  /** The protocol version the call was made under: its `_meta` (2026-07-28) or the session's `initialize`. */
  protocolVersion?: string;
  /** The call record's id, given when it is first queued. */
  recordId?: string;
  /** Parts not queued yet. */
  parts?: CallPart[];
  /** The call ended and its record was queued: every later part is queued at once. */
  written?: boolean;
  /** The kinds of part recorded so far (KIND_BIT). */
  kinds?: number;
  /** The W3C trace context of the request's `_meta`, when valid (docs/opentelemetry.md#trace-context). */
  traceparent?: string;
  /** The traceparent of ratri's own span for the call, made when first asked for (`traceparentFor`), with `telemetry.otlp` only. */
  span?: string;
}

const KIND_BIT: Record<CallPartKind, number> = { guard: 1, started: 2, result: 4, ended: 8 };

/** Calls with parts not yet queued, at most: beyond it the oldest is queued as it stands (a tools/call notification never ends). */
const OPEN_CALLS_MAX = 1000;
/** How long an event waits to be built with others (the queue then waits up to 20 ms more for its write). */
const BUILD_DELAY_MS = 10;
/** Events waiting to be built that are built at once. */
const BUILD_BATCH = 500;
/**
 * A call with arguments or an answer this large is built at the end of the turn instead: its
 * building (redacting and inferring from large arguments) would otherwise land in the middle of
 * the next large call, and a large call's own transfer dwarfs it.
 */
const LARGE_CALL_BYTES = 64 * 1024;
const isLarge = (call: ToolCallRecord): boolean => call.argumentsSize >= LARGE_CALL_BYTES;

interface CallDetails {
  action: Action;
  resource: Resource | undefined;
  riskLevel: RiskLevel;
  /** Redacted (and long strings cut). */
  arguments: Record<string, unknown>;
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
    /** Redacts secret values in every event; undefined when `secrets.redact` is off. */
    private readonly findSecrets?: FindSecrets,
    /** Spans are exported (`telemetry.otlp`): each call's span ids are chosen here, so the control plane can be told them. */
    private readonly exportsSpans = false,
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

  /** Records an event; `data` must not be changed by the caller afterwards. */
  emit(type: EventType, data: Record<string, unknown>): void {
    this.record((ts) => {
      // Calls that never ended (notifications, calls the upstream never answered) are written before the session's end.
      if (type === EventType.sessionEnded) this.writeOpenCalls();
      this.push(type, this.redactWhole(data), ts);
    });
  }

  /** The last redaction pass over a whole event's data (a no-op without redact keys). */
  private redactWhole(data: Record<string, unknown>): Record<string, unknown> {
    return this.redactKeysSet ? (this.redactEvent(data) as Record<string, unknown>) : data;
  }

  /**
   * For tool-call events: their `arguments` and `resource` come from the redacted call details, so
   * the whole-event walk is needed only when a redact key names one of the event's own fields (say
   * "message", which an upstream error carries); that is known once, from the key list.
   */
  private fieldsOfCall(data: Record<string, unknown>): Record<string, unknown> {
    return this.redactToolEventFields ? (this.redactEvent(data) as Record<string, unknown>) : data;
  }

  /** Calls with parts not yet queued, oldest first. */
  private readonly openCalls = new Set<ToolCallRecord>();

  /** Adds one part to a call's record; queued at once when the record was queued before. */
  private addPart(call: ToolCallRecord, k: CallPartKind, ts: number, fields: Record<string, unknown>): void {
    // `seq` is set by the store; made here, the object has its slot from the start.
    const part: CallPart = { k, ts, f: this.fieldsOfCall(fields), seq: undefined };
    const bit = KIND_BIT[k];
    // A record holds one part of each kind (their event ids derive from it): a second one is an event of its own.
    if ((call.kinds ?? 0) & bit) return this.push(partEventType(part), this.loneEventData(call, part), ts);
    call.kinds = (call.kinds ?? 0) | bit;
    (call.parts ??= []).push(part);
    if (call.written) return this.writeCall(call);
    this.openCalls.add(call);
    if (this.openCalls.size > OPEN_CALLS_MAX) {
      const oldest = this.openCalls.values().next().value as ToolCallRecord;
      this.writeCall(oldest, false);
    }
  }

  /** The data of a part queued as an event of its own: what it would have as one of the record's. */
  private loneEventData(call: ToolCallRecord, part: CallPart): Record<string, unknown> {
    const data = this.baseFields(call);
    if (part.k === 'started') data.arguments = this.argumentsForEvents(this.detailsOf(call).arguments);
    for (const key in part.f) data[key] = part.f[key];
    return data;
  }

  /** Queues the parts of a call gathered so far as its record (or an update of it); `ended`: no more are expected. */
  private writeCall(call: ToolCallRecord, ended = true): void {
    this.openCalls.delete(call);
    if (ended) call.written = true;
    const parts = call.parts;
    if (!parts || parts.length === 0) return;
    call.parts = undefined;
    const ts = parts[0]!.ts;
    const { agentKey, environment, serverName, sessionId } = this.identity;
    const details = this.detailsOf(call);
    const record: CallEvent = {
      id: (call.recordId ??= asCallId(newEventId(ts))),
      type: CALL_EVENT_TYPE,
      ts: isoTime(ts),
      agentKey,
      environment,
      serverName,
      sessionId,
      data: { base: this.baseFields(call), arguments: this.argumentsForEvents(details.arguments), parts },
    };
    this.deliver(record);
  }

  /** The call's arguments as its events carry them (a redact key named `arguments` hides them whole). */
  private argumentsForEvents(args: Record<string, unknown>): unknown {
    return this.redactToolEventFields ? this.fieldsOfCall({ arguments: args }).arguments : args;
  }

  private writeOpenCalls(): void {
    for (const call of [...this.openCalls]) this.writeCall(call, false);
  }

  private deferred: Array<() => void> = [];
  private buildTimer: NodeJS.Timeout | undefined;
  private buildThisTurn = false;
  private closing = false;

  /**
   * Runs `build` with the time of this call a little later (BUILD_DELAY_MS; at the end of the turn
   * past BUILD_BATCH of them, or `soon`), in order with every other event; does nothing when no
   * sink is configured. Built in batches, away from the frames: work done right after a write runs
   * while the process the write woke waits for the CPU
   * (docs/performance.md#off-the-frames-way-and-a-smaller-row-issue-13-this-round).
   */
  private record(build: (ts: number) => void, soon = false): void {
    if (!this.enabled) return;
    const ts = Date.now();
    this.deferred.push(() => build(ts));
    if (soon || this.closing || this.deferred.length >= BUILD_BATCH) this.buildAtTurnEnd();
    else this.buildTimer ??= setTimeout(() => this.buildPending(), BUILD_DELAY_MS).unref();
  }

  private buildAtTurnEnd(): void {
    if (this.buildThisTurn) return;
    this.buildThisTurn = true;
    queueMicrotask(() => this.buildPending());
  }

  /** Builds every event still waiting; called by record's timer and before shutdown. */
  buildPending(): void {
    clearTimeout(this.buildTimer);
    this.buildTimer = undefined;
    this.buildThisTurn = false;
    const builds = this.deferred;
    this.deferred = [];
    for (const build of builds) build();
  }

  /**
   * Builds what is pending, waits for work that will still record (tracked judgements, events being
   * scanned for secrets), then flushes and closes the sinks within `deadlineMs`.
   */
  close(deadlineMs: number): Promise<void> {
    this.closing = true; // what is recorded from now on is built at the end of its turn: the sinks close soon
    this.buildPending();
    return Promise.allSettled([...this.recording])
      .then(() => {
        this.buildPending();
        this.writeOpenCalls();
      })
      .then(() => this.scanning)
      .then(() => this.queue.close(deadlineMs));
  }

  /** Work that records when it settles (a result judged by a secret scan): close() waits for it. */
  private readonly recording = new Set<Promise<unknown>>();

  /** Has close() wait for `work` before the sinks are closed, so what it records is not lost. */
  track(work: Promise<unknown>): void {
    this.recording.add(work);
    void work.finally(() => this.recording.delete(work)).catch(() => undefined);
  }

  /** The last event still being scanned for secrets: every later one is queued after it. */
  private scanning: Promise<void> | undefined;

  /** Queues an event with its secret values redacted (at once, unless the prefilter lets its text through). */
  private deliver(event: QueuedEvent): void {
    if (!this.findSecrets) return this.queue.push(event);
    const found = findValueSecrets(event.data, this.findSecrets, true); // stored as it is: clean strings may be remembered
    if (!(found instanceof Promise) && !this.scanning) return this.queue.push(withSecretsRedacted(event, found));
    const next = (this.scanning ?? Promise.resolve())
      .then(() => found)
      .then(
        (f) => this.queue.push(withSecretsRedacted(event, f)),
        // A scan that failed cannot say what to hide: the event keeps none of its data.
        () => this.queue.push(withoutData(event)),
      );
    this.scanning = next;
    void next.finally(() => {
      if (this.scanning === next) this.scanning = undefined;
    });
  }

  private push(type: EventType, data: Record<string, unknown>, ts: number): void {
    const { agentKey, environment, serverName, sessionId } = this.identity;
    const event: RatriEvent = {
      id: newEventId(ts),
      type,
      ts: isoTime(ts),
      agentKey,
      environment,
      serverName,
      sessionId,
      data,
    };
    this.deliver(event);
  }

  /** Starts the record of a call; what events need of it is inferred later (`detailsOf`). */
  describeCall(
    requestId: string,
    tool: string,
    args: Record<string, unknown>,
    annotations: ToolAnnotations | undefined,
    frameBytes: number,
    protocolVersion?: string,
    startedAt?: number,
  ): ToolCallRecord {
    const call: ToolCallRecord = {
      protocolVersion,
      requestId,
      tool,
      namespacedTool: `${this.identity.serverName}.${tool}`,
      argumentsSize: frameBytes,
      startedAt: startedAt ?? performance.now(),
    };
    if (this.enabled) {
      call.rawArguments = args;
      call.annotations = annotations;
    }
    return call;
  }

  /**
   * The traceparent the control plane is sent with this call (docs/opentelemetry.md#across-the-control-plane):
   * that of ratri's own span when spans are exported (its ids then go in the call's events), else the host's.
   */
  traceparentFor(call: ToolCallRecord): string | undefined {
    if (!this.exportsSpans) return call.traceparent;
    call.span ??= childTraceparent(call.traceparent);
    return call.span;
  }

  /** The call is round `round` of the call first sent with request id `firstCallId` (docs/events.md). */
  linkRound(call: ToolCallRecord, round: number, firstCallId: string): void {
    call.round = round;
    call.firstCallId = firstCallId;
  }

  /** Action, resource, risk and redacted arguments of a call, made once, from its arguments. */
  private detailsOf(call: ToolCallRecord): CallDetails {
    if (!call.details) {
      const action = inferAction(call.tool, call.annotations);
      const redacted = this.redact(call.rawArguments ?? {}) as Record<string, unknown>;
      call.details = {
        action,
        resource: inferResource(redacted), // from redacted arguments: a redacted path or query stays hidden
        riskLevel: riskLevel(action, call.annotations),
        arguments: redacted,
      };
      call.rawArguments = undefined;
    }
    return call.details;
  }

  /**
   * The fields every tool-call event starts with, as a fresh object the caller adds to. (Fields are
   * assigned, not spread: object spread costs several µs per event in Node 20, for every tool call.)
   */
  private baseFields(call: ToolCallRecord): Record<string, unknown> {
    const details = this.detailsOf(call);
    const fields: Record<string, unknown> = {
      tool: call.namespacedTool,
      requestId: call.requestId,
      action: details.action,
      resource: details.resource ?? null,
      riskLevel: details.riskLevel,
    };
    if (call.protocolVersion !== undefined) fields.protocolVersion = call.protocolVersion;
    if (call.traceparent !== undefined) fields.traceparent = call.traceparent;
    const span = parseTraceparent(call.span);
    if (span) {
      fields.traceId = span.traceId;
      fields.spanId = span.spanId;
    }
    if (call.round !== undefined) {
      fields.round = call.round;
      fields.firstCallId = call.firstCallId;
    }
    return this.fieldsOfCall(fields);
  }

  toolStarted(call: ToolCallRecord): void {
    this.record((ts) => this.addPart(call, 'started', ts, { argumentsSize: call.argumentsSize }), isLarge(call));
  }

  /** A call is held for a human; the event carries its redacted arguments. */
  approvalRequested(
    call: ToolCallRecord,
    approval: { approvalId: string; ruleId: string | null; reason: string; timeoutMs: number },
  ): void {
    this.record((ts) => {
      const data: Record<string, unknown> = {
        approvalId: approval.approvalId,
        tool: call.namespacedTool,
        requestId: call.requestId,
        ...(call.protocolVersion === undefined ? {} : { protocolVersion: call.protocolVersion }),
        ruleId: approval.ruleId,
        reason: approval.reason,
        arguments: this.detailsOf(call).arguments,
        timeoutMs: approval.timeoutMs,
      };
      this.writeCall(call, false); // the record of a held call is written now, and updated when the call ends
      this.push(EventType.approvalRequested, this.redactWhole(data), ts);
    });
  }

  /**
   * The upstream answered (or the proxy answered for it: `error` with one of its own codes, or for a
   * 2026-07-28-era request `isError` with `refusal`). `inputRequired`: the answer asks for input, and
   * a retry continues the call.
   */
  toolFinished(call: ToolCallRecord, outcome: CallOutcome): void {
    const durationMs = round(performance.now() - call.startedAt);
    const large = isLarge(call) || outcome.resultSize >= LARGE_CALL_BYTES;
    this.record((ts) => {
      const data: Record<string, unknown> = {};
      data.durationMs = durationMs;
      data.argumentsSize = call.argumentsSize;
      data.resultSize = outcome.resultSize;
      if (outcome.error) data.error = outcome.error;
      if (outcome.isError) data.isError = true;
      if (outcome.refusal) data.refusal = outcome.refusal;
      if (outcome.inputRequired) data.inputRequired = true;
      if (outcome.uninspected) data.uninspected = true;
      this.addPart(call, 'ended', ts, data);
      this.writeCall(call);
    }, large);
  }

  /** `approvedInEarlierRound`: the approval of an earlier round of this call, which lets it through unheld. */
  guardrailEvaluated(call: ToolCallRecord, verdict: PolicyVerdict, enforced: boolean, approvedInEarlierRound?: string): void {
    this.record((ts) => {
      const data: Record<string, unknown> = {};
      data.decision = verdict.decision;
      data.ruleId = verdict.ruleId;
      data.reason = verdict.reason;
      data.latencyMs = round(verdict.latencyMs);
      data.enforced = enforced;
      if (verdict.failure) data.failure = verdict.failure;
      if (approvedInEarlierRound) data.approvedInEarlierRound = approvedInEarlierRound;
      if (verdict.grantId) data.grantId = verdict.grantId;
      this.addPart(call, 'guard', ts, data);
    }, isLarge(call));
  }

  /**
   * A result-phase decision on the upstream's answer (docs/events.md#agentguardrailevaluated):
   * `phase: "result"`, and for `redact` how many values were replaced (never the values).
   */
  resultEvaluated(call: ToolCallRecord, verdict: ResultVerdict, latencyMs: number, enforced: boolean, redactions?: number): void {
    this.record((ts) => {
      const data: Record<string, unknown> = {};
      data.phase = 'result';
      data.decision = verdict.decision;
      data.ruleId = verdict.ruleId;
      data.reason = verdict.reason;
      data.latencyMs = round(latencyMs);
      data.enforced = enforced;
      if (redactions !== undefined) data.redactions = redactions;
      this.addPart(call, 'result', ts, data);
    });
  }

  /** `listing`: what is known of the tools/list request whose answer listed them (docs/events.md#mcptoolsregistered). */
  toolsRegistered(tools: ToolDefinition[], changed: string[], listing: ListingFields = {}): void {
    const data: Record<string, unknown> = {};
    if (listing.protocolVersion !== undefined) data.protocolVersion = listing.protocolVersion;
    if (listing.requestId !== undefined) data.requestId = listing.requestId;
    if (listing.durationMs !== undefined) data.durationMs = round(listing.durationMs);
    if (listing.traceparent !== undefined) data.traceparent = listing.traceparent;
    data.count = tools.length;
    data.tools = tools.map((t) => ({
      name: `${this.identity.serverName}.${t.name}`,
      description: t.description ?? null,
      annotations: t.annotations ?? null,
    }));
    this.emit(EventType.toolsRegistered, data);
    for (const name of changed) {
      this.emit(EventType.toolDefinitionChanged, { tool: `${this.identity.serverName}.${name}` });
    }
  }

  /** An approval ended: decided, timed out, or (with `reason`) cancelled because its hold ended first. */
  approvalResolved(approvalId: string, tool: string, outcome: string, reason?: string): void {
    this.emit(EventType.approvalResolved, reason === undefined ? { approvalId, tool, outcome } : { approvalId, tool, outcome, reason });
  }

  warning(kind: string, reason: string, extra: Record<string, unknown> = {}): void {
    this.emit(EventType.proxyWarning, { kind, reason, ...extra });
  }
}

/** An event whose secret scan failed keeps none of its data (a call: none in any of its events). */
function withoutData(event: QueuedEvent): QueuedEvent {
  if (event.type !== CALL_EVENT_TYPE) return { ...event, data: { secretScanFailed: true } };
  const parts = event.data.parts.map((p) => ({ k: p.k, ts: p.ts, f: {} }));
  return { ...event, data: { base: { secretScanFailed: true }, arguments: null, parts } };
}

function withSecretsRedacted<E extends QueuedEvent>(event: E, found: JsonSecrets): E {
  if (found.spans.length === 0) return event;
  event.data = redactedValue(event.data, found) as E['data'];
  return event;
}

/** Every field name a tool-call event's data can hold, outside its (already redacted) arguments. */
const TOOL_EVENT_FIELDS = new Set(
  [
    'tool',
    'requestId',
    'action',
    'resource',
    'type',
    'value',
    'riskLevel',
    'arguments',
    'argumentsSize',
    'durationMs',
    'resultSize',
    'error',
    'code',
    'message',
    'isError',
    'uninspected',
    'decision',
    'ruleId',
    'reason',
    'latencyMs',
    'enforced',
    'failure',
    'grantId',
    'phase',
    'redactions',
    'protocolversion',
    'traceparent',
    'traceid',
    'spanid',
  ].map((f) => f.toLowerCase()),
);

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function newSessionId(): string {
  return process.env.RATRI_SESSION_ID || randomUUID();
}
