/**
 * The OpenTelemetry exporter of a proxy (docs/opentelemetry.md): an event sink that turns the tool
 * events ratri already builds (already redacted) into one span per `tools/call` and `tools/list`, with the MCP
 * semantic conventions, and into the `mcp.server.operation.duration` histogram and a counter of
 * guardrail decisions. It sits behind the event queue, so nothing here runs on the data path.
 */

import type { Counter, Histogram } from '@opentelemetry/api';
import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { OtlpConfig } from '../config/types.js';
import { parseTraceparent } from '../jsonrpc/trace-context.js';
import { type EventSink, EventType, type RatriEvent } from './event.js';
import { type OtlpPipeline, ratriInstruments } from './otlp-pipeline.js';

/** What the sink gathers about one call between its started and finished events. */
interface OpenCall {
  startMs: number;
  attributes: Attributes;
  parent: Context;
  /** The span's ids, when the proxy chose them to tell the control plane (events' traceId and spanId). */
  ids?: { traceId: string; spanId: string };
}

export interface OtlpSinkOptions {
  config: OtlpConfig;
  serverName: string;
  /** `pipe` for stdio, `tcp` for the HTTP front (the semantic conventions' network.transport). */
  networkTransport: 'pipe' | 'tcp';
}

export class OtlpSink implements EventSink {
  private readonly tracer: Tracer;
  private readonly duration: Histogram;
  private readonly decisions: Counter;
  private readonly open = new Map<string, OpenCall>();

  constructor(
    private readonly pipeline: OtlpPipeline,
    private readonly options: OtlpSinkOptions,
  ) {
    this.tracer = pipeline.tracerProvider.getTracer('ratri');
    ({ duration: this.duration, decisions: this.decisions } = ratriInstruments(pipeline));
  }

  async write(events: RatriEvent[]): Promise<void> {
    for (const event of events) this.observe(event);
  }

  close(): Promise<void> {
    return this.pipeline.shutdown();
  }

  /** Joins a call's events on its request id (docs/events.md#event-sequences): the first one opens it. */
  private observe(event: RatriEvent): void {
    if (event.type === EventType.toolsRegistered) return this.listed(event);
    if (!CALL_EVENTS.has(event.type)) return;
    const data = event.data;
    const key = `${event.sessionId}\u0000${String(data.requestId)}`;
    const call = this.open.get(key) ?? this.openCall(key, event);
    if (event.type === EventType.guardrailEvaluated) this.decided(call, data);
    else if (event.type === EventType.toolStarted) this.started(call, data);
    else if (event.type === EventType.approvalRequested) call.attributes['ratri.approval_id'] = String(data.approvalId);
    else if (event.type === EventType.toolCompleted || event.type === EventType.toolFailed) {
      this.open.delete(key);
      this.finish(call, event);
    }
  }

  private openCall(key: string, event: RatriEvent): OpenCall {
    const data = event.data;
    const attributes: Attributes = {
      'mcp.method.name': 'tools/call',
      'mcp.session.id': event.sessionId,
      'jsonrpc.request.id': idText(String(data.requestId)),
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': this.bareToolName(String(data.tool)),
      'network.transport': this.options.networkTransport,
    };
    if (typeof data.action === 'string') attributes['ratri.action'] = data.action;
    if (typeof data.protocolVersion === 'string') attributes['mcp.protocol.version'] = data.protocolVersion;
    const resource = data.resource as { type: string; value: string } | null | undefined;
    if (resource) attributes['ratri.resource'] = `${resource.type}:${resource.value}`;
    const call: OpenCall = { startMs: Date.parse(event.ts), attributes, parent: parentContext(data.traceparent) };
    if (typeof data.traceId === 'string' && typeof data.spanId === 'string') call.ids = { traceId: data.traceId, spanId: data.spanId };
    this.open.set(key, call);
    // A call never answered (a notification, a session cut short) must not be kept for ever.
    if (this.open.size > MAX_OPEN_CALLS) this.open.delete(this.open.keys().next().value as string);
    return call;
  }

  /** The call went to the upstream: its (redacted) arguments go on the span when opted in. */
  private started(call: OpenCall, data: Record<string, unknown>): void {
    if (this.options.config.includeArguments) call.attributes['gen_ai.tool.call.arguments'] = JSON.stringify(data.arguments);
  }

  /** A guardrail decision: the call phase's sets ratri.decision, the result phase's ratri.result_decision. */
  private decided(call: OpenCall | undefined, data: Record<string, unknown>): void {
    const decision = String(data.decision);
    const result = data.phase === 'result';
    this.decisions.add(1, {
      'ratri.decision': decision,
      'ratri.phase': result ? 'result' : 'call',
      'gen_ai.tool.name': this.bareToolName(String(data.tool)),
    });
    if (!call) return;
    call.attributes[result ? 'ratri.result_decision' : 'ratri.decision'] = decision;
    if (typeof data.ruleId === 'string') call.attributes[result ? 'ratri.result_rule_id' : 'ratri.rule_id'] = data.ruleId;
  }

  private finish(call: OpenCall, event: RatriEvent): void {
    const data = event.data;
    // The call's duration runs from the request's arrival (before the guardrail) to its answer.
    const endMs = Date.parse(event.ts);
    const durationMs = typeof data.durationMs === 'number' ? data.durationMs : endMs - call.startMs;
    const startMs = endMs - durationMs;
    const errorType = errorTypeOf(data);
    if (errorType) call.attributes['error.type'] = errorType;
    const error = data.error as { code?: unknown } | undefined;
    if (error) call.attributes['rpc.response.status_code'] = String(error.code);
    const name = `tools/call ${call.attributes['gen_ai.tool.name']}`;
    if (call.ids) this.pipeline.ids.use(call.ids.traceId, call.ids.spanId);
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: startMs, attributes: call.attributes }, call.parent);
    this.pipeline.ids.forget();
    if (errorType) span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessageOf(data) });
    span.end(endMs);
    this.pipeline.counts.ended++;
    this.duration.record(durationMs / 1000, metricAttributes(call.attributes));
  }

  /** A `tools/list` answered with tools: its span (no target: named `tools/list`) and duration. */
  private listed(event: RatriEvent): void {
    const data = event.data;
    if (typeof data.requestId !== 'string' || typeof data.durationMs !== 'number') return;
    const attributes: Attributes = {
      'mcp.method.name': 'tools/list',
      'mcp.session.id': event.sessionId,
      'jsonrpc.request.id': idText(data.requestId),
      'network.transport': this.options.networkTransport,
    };
    if (typeof data.protocolVersion === 'string') attributes['mcp.protocol.version'] = data.protocolVersion;
    const endMs = Date.parse(event.ts);
    const options = { kind: SpanKind.SERVER, startTime: endMs - data.durationMs, attributes };
    this.tracer.startSpan('tools/list', options, parentContext(data.traceparent)).end(endMs);
    this.pipeline.counts.ended++;
    this.duration.record(data.durationMs / 1000, metricAttributes(attributes));
  }

  /** `fs.read_file` → `read_file`: the name the upstream's tools/list gave (gen_ai.tool.name). */
  private bareToolName(namespaced: string): string {
    const prefix = `${this.options.serverName}.`;
    return namespaced.startsWith(prefix) ? namespaced.slice(prefix.length) : namespaced;
  }
}

/** An event's requestId is the id as JSON text (docs/events.md#tool-fields): a string id loses its quotes. */
export function idText(requestId: string): string {
  if (!requestId.startsWith('"')) return requestId;
  try {
    return String(JSON.parse(requestId));
  } catch {
    return requestId;
  }
}

/** Calls waiting for their answer at most; the oldest is forgotten beyond (no span for it). */
const MAX_OPEN_CALLS = 10_000;

/** The events about one tools/call (docs/events.md#event-sequences). */
const CALL_EVENTS = new Set<string>([
  EventType.guardrailEvaluated,
  EventType.approvalRequested,
  EventType.toolStarted,
  EventType.toolCompleted,
  EventType.toolFailed,
]);

/**
 * The conventions' error.type: the JSON-RPC error code as a string, or `tool_error` for an isError
 * result (a 2026-07-28-era refusal is one: the host got a tool result).
 */
function errorTypeOf(data: Record<string, unknown>): string | undefined {
  const error = data.error as { code?: unknown } | undefined;
  if (error) return String(error.code);
  if (data.isError === true) return 'tool_error';
  return undefined;
}

function errorMessageOf(data: Record<string, unknown>): string | undefined {
  const error = (data.error ?? data.refusal) as { message?: unknown } | undefined;
  return typeof error?.message === 'string' ? error.message : undefined;
}

/** The low-cardinality attributes the duration histogram is recorded with. */
function metricAttributes(span: Attributes): Attributes {
  const keys = ['mcp.method.name', 'gen_ai.tool.name', 'gen_ai.operation.name', 'error.type', 'network.transport', 'mcp.protocol.version'];
  const out: Attributes = {};
  for (const k of keys) if (span[k] !== undefined) out[k] = span[k];
  return out;
}

/** The parent a valid traceparent names (the host's span, or a proxy's for `ratri serve`); else a new trace. */
export function parentContext(traceparent: unknown): Context {
  const parent = parseTraceparent(typeof traceparent === 'string' ? traceparent : undefined);
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true });
}
