/**
 * The OpenTelemetry export of `ratri serve` (docs/opentelemetry.md#ratri-serve): one span per API
 * request that matters for a tool call — a guard evaluation, an approval read, waited on, resolved
 * or expired, a batch of events, a tools/list's tools defined — with the attributes the proxy's spans
 * use, and the proxy's two metrics for evaluations. A request's `traceparent` header makes its span
 * a child of the proxy's span for the call. Spans are made after the answer was sent (api-server.ts
 * `onAnswered`) and exported in the background by the shared pipeline (otlp-pipeline.ts). This file
 * is loaded only when the serve config sets `telemetry.otlp`.
 */
import { type Attributes, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { OtlpConfig } from '../config/types.js';
import { withDeadline } from '../node/deadline.js';
import { inferAction, inferResource } from '../telemetry/infer.js';
import { type OtlpPipeline, openOtlpPipeline, type RatriInstruments, ratriInstruments } from '../telemetry/otlp-pipeline.js';
import { idText, parentContext } from '../telemetry/otlp-sink.js';
import type { EvaluateBody } from './api-protocol.js';
import type { AnsweredRequest } from './api-server.js';
import type { ApprovalRecord, GuardAnswer } from './control-plane.js';
import type { ServedPlane } from './served-plane.js';

/** What one answered request makes: a span named `{operation} {gen_ai.tool.name}` (the operation alone without a tool). */
interface SpanFacts {
  operation: string;
  /** The route, as `http.route`. */
  route: string;
  attributes: Attributes;
}

export interface ApiTelemetry {
  /** For `createApiServer`'s `onAnswered`: never throws, never waits. */
  observe(answered: AnsweredRequest): void;
  /** Exports what is queued, within `deadlineMs`; answers how many spans were not exported. */
  close(deadlineMs: number): Promise<number>;
}

/** Opens the export; `warn` is told of the first export the collector did not take (the others are counted). */
export async function openApiTelemetry(config: OtlpConfig, plane: ServedPlane, warn: (message: string) => void): Promise<ApiTelemetry> {
  let warned = false;
  const pipeline = await openOtlpPipeline(config, { 'service.name': 'ratri-serve' }, (reason) => {
    if (warned) return;
    warned = true;
    warn(`telemetry.otlp: spans could not be exported to ${config.endpoint}: ${reason} (further failures are counted)`);
  });
  return new ApiSpans(pipeline, plane);
}

class ApiSpans implements ApiTelemetry {
  private readonly tracer: Tracer;
  private readonly instruments: RatriInstruments;
  /** Spans being made (an evaluation's resource waits for the secret scan of its arguments). */
  private readonly making = new Set<Promise<void>>();

  constructor(
    private readonly pipeline: OtlpPipeline,
    private readonly plane: ServedPlane,
  ) {
    this.tracer = pipeline.tracerProvider.getTracer('ratri');
    this.instruments = ratriInstruments(pipeline);
  }

  observe(answered: AnsweredRequest): void {
    try {
      const facts = this.factsOf(answered);
      if (!(facts instanceof Promise)) return facts && this.end(answered, facts);
      const making = facts.then(
        (f) => this.end(answered, f),
        () => undefined,
      );
      this.making.add(making);
      void making.finally(() => this.making.delete(making));
    } catch {
      // a request this file did not expect makes no span; its answer went out all the same
    }
  }

  async close(deadlineMs: number): Promise<number> {
    const until = Date.now() + deadlineMs;
    await withDeadline(Promise.allSettled([...this.making]), deadlineMs);
    await withDeadline(this.pipeline.shutdown(), until - Date.now());
    return this.pipeline.counts.ended - this.pipeline.counts.exported;
  }

  private factsOf(answered: AnsweredRequest): SpanFacts | Promise<SpanFacts> | undefined {
    const url = new URL(answered.req.url ?? '/', 'http://ratri');
    const [v1, first, second, third] = url.pathname.split('/').slice(1);
    if (v1 !== 'v1') return undefined;
    const method = answered.req.method;
    if (method === 'POST' && first === 'guard' && second === 'evaluate') return this.evaluation(answered);
    if (method === 'POST' && first === 'events' && !second) return ingest(answered);
    if (method === 'POST' && first === 'tools' && second === 'define') return toolsDefined(answered);
    if (first !== 'approvals' || !second) return undefined;
    const id = decodeURIComponent(second);
    if (method === 'GET' && !third) {
      const waited = Number(url.searchParams.get('waitMs')) > 0;
      return approvalFacts(
        waited ? 'approvals/wait' : 'approvals/get',
        '/v1/approvals/{id}',
        id,
        answered.reply?.body as ApprovalRecord | undefined,
      );
    }
    if (method === 'POST' && (third === 'resolve' || third === 'expire')) {
      const reply = answered.reply?.body as { approval?: ApprovalRecord } | undefined;
      return approvalFacts(`approvals/${third}`, `/v1/approvals/{id}/${third}`, id, reply?.approval);
    }
    return undefined;
  }

  /** A guard evaluation: the decision, and the resource from the arguments as the server redacts them. */
  private evaluation(answered: AnsweredRequest): SpanFacts | Promise<SpanFacts> {
    const request = answered.body as EvaluateBody | undefined;
    const answer = answered.reply?.body as GuardAnswer | undefined;
    const attributes: Attributes = { 'mcp.method.name': 'tools/call' };
    if (request)
      Object.assign(attributes, callAttributes(request), { 'ratri.action': inferAction(request.tool, request.annotations ?? undefined) });
    if (answer) Object.assign(attributes, decisionAttributes(answer));
    const facts = { operation: 'guard/evaluate', route: '/v1/guard/evaluate', attributes };
    if (answer && request) this.count(answered, request, answer);
    if (!request) return facts;
    return Promise.resolve(this.plane.approvalArgumentsOf(request)).then((args) => {
      const resource = inferResource(args);
      if (resource) attributes['ratri.resource'] = `${resource.type}:${resource.value}`;
      return facts;
    });
  }

  /** The proxy's two metrics, for a decided evaluation. */
  private count(answered: AnsweredRequest, request: EvaluateBody, answer: GuardAnswer): void {
    const tool = request.tool;
    this.instruments.decisions.add(1, { 'ratri.decision': answer.decision, 'ratri.phase': 'call', 'gen_ai.tool.name': tool });
    const seconds = (answered.endMs - answered.startMs) / 1000;
    this.instruments.duration.record(seconds, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool });
  }

  private end(answered: AnsweredRequest, facts: SpanFacts): void {
    const { attributes } = facts;
    attributes['http.request.method'] = answered.req.method ?? 'GET';
    attributes['http.route'] = facts.route;
    attributes['http.response.status_code'] = answered.status;
    // As the HTTP conventions say of a server's span: only a 5xx is the server's error.
    if (answered.status >= 500) attributes['error.type'] = String(answered.status);
    const tool = attributes['gen_ai.tool.name'];
    const name = typeof tool === 'string' ? `${facts.operation} ${tool}` : facts.operation;
    const options = { kind: SpanKind.SERVER, startTime: answered.startMs, attributes };
    // A traceparent header (the proxy's span for the call) makes this span its child.
    const span = this.tracer.startSpan(name, options, parentContext(answered.req.headers.traceparent));
    if (answered.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: errorOf(answered) });
    span.end(answered.endMs);
    this.pipeline.counts.ended++;
  }
}

/** What a guard request says of its call: the MCP attributes and ratri's. */
function callAttributes(request: EvaluateBody): Attributes {
  const attributes: Attributes = {
    'gen_ai.tool.name': request.tool,
    'ratri.agent_key': request.agentKey,
    'ratri.server_name': request.serverName,
  };
  if (typeof request.sessionId === 'string') attributes['mcp.session.id'] = request.sessionId;
  if (typeof request.requestId === 'string') attributes['jsonrpc.request.id'] = idText(request.requestId);
  return attributes;
}

function decisionAttributes(answer: GuardAnswer): Attributes {
  const attributes: Attributes = { 'ratri.decision': answer.decision };
  if (typeof answer.ruleId === 'string') attributes['ratri.rule_id'] = answer.ruleId;
  if (typeof answer.approvalId === 'string') attributes['ratri.approval_id'] = answer.approvalId;
  if (typeof answer.grantId === 'string') attributes['ratri.grant_id'] = answer.grantId;
  return attributes;
}

/** An approval's span: what its record says of the call (its arguments are stored redacted). */
function approvalFacts(operation: string, route: string, id: string, approval: ApprovalRecord | undefined): SpanFacts {
  const attributes: Attributes = { 'mcp.method.name': 'tools/call', 'ratri.approval_id': id };
  if (approval) {
    Object.assign(attributes, {
      'gen_ai.tool.name': approval.tool,
      'ratri.agent_key': approval.agentKey,
      'ratri.server_name': approval.serverName,
      'ratri.approval.status': approval.status,
      'ratri.action': inferAction(approval.tool, undefined),
    });
    if (approval.sessionId) attributes['mcp.session.id'] = approval.sessionId;
    if (approval.requestId) attributes['jsonrpc.request.id'] = idText(approval.requestId);
    if (approval.ruleId) attributes['ratri.rule_id'] = approval.ruleId;
    if (approval.scope) attributes['ratri.approval.scope'] = approval.scope;
    const resource = inferResource(approval.arguments ?? {});
    if (resource) attributes['ratri.resource'] = `${resource.type}:${resource.value}`;
  }
  return { operation, route, attributes };
}

/** A batch of events uploaded: how many, how many were new, and whose when they are all one agent's. */
function ingest(answered: AnsweredRequest): SpanFacts {
  const events = (answered.body as { events?: Array<{ agentKey?: unknown }> } | undefined)?.events ?? [];
  const attributes: Attributes = { 'ratri.events.count': events.length };
  const accepted = (answered.reply?.body as { accepted?: unknown } | undefined)?.accepted;
  if (typeof accepted === 'number') attributes['ratri.events.accepted'] = accepted;
  const agents = new Set(events.map((e) => e.agentKey));
  const [agent] = agents;
  if (agents.size === 1 && typeof agent === 'string') attributes['ratri.agent_key'] = agent;
  return { operation: 'events/ingest', route: '/v1/events', attributes };
}

/** The tools of a proxy's tools/list answer, defined in the registry. */
function toolsDefined(answered: AnsweredRequest): SpanFacts {
  const body = answered.body as { agentKey?: string; serverName?: string; tools?: unknown[] } | undefined;
  const attributes: Attributes = { 'mcp.method.name': 'tools/list' };
  if (body?.agentKey) attributes['ratri.agent_key'] = body.agentKey;
  if (body?.serverName) attributes['ratri.server_name'] = body.serverName;
  if (Array.isArray(body?.tools)) attributes['ratri.tools.count'] = body.tools.length;
  const changed = (answered.reply?.body as { changed?: unknown } | undefined)?.changed;
  if (Array.isArray(changed)) attributes['ratri.tools.changed'] = changed.length;
  return { operation: 'tools/define', route: '/v1/tools/define', attributes };
}

function errorOf(answered: AnsweredRequest): string {
  return `the server answered ${answered.status}`;
}
