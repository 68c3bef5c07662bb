/**
 * OpenTelemetry export from `ratri serve` (docs/opentelemetry.md#ratri-serve), end to end: the built
 * CLI's `ratri serve` with `telemetry.otlp` in its config, a built `ratri mcp proxy` whose `api`
 * points at it in front of the fixture upstream, and a real local OTLP/HTTP receiver for each. The
 * serve spans of evaluations, approvals and uploads are checked, and that each joins the trace of
 * the proxy's span for its call, as that span's child (the `traceparent` header). A collector that
 * is away delays no answer, and a serve without `telemetry.otlp` never loads the SDK.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, ProxyProcess, root, toolCall, writeConfig } from '../helpers/cli.js';
import { compileEventSchema, readEvents } from '../helpers/events.js';
import { FAKE } from '../helpers/fake-secrets.js';
import { closedPort, OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';
import { apiRequest, killedAfterEach, type ServeProcess, startServe as startServeProcess } from '../helpers/serve.js';

const { dir, track } = cleanUpAfterEach('ratri-serve-otel-');
const receivers: OtlpReceiver[] = [];
const serves = killedAfterEach();
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

const KEY_ENV = 'RATRI_OTEL_API_KEY';
const APPROVER_ENV = 'RATRI_OTEL_APPROVER_KEY';
const KEY = 'otel-proxy-key-0123456789';
const APPROVER_KEY = 'otel-approver-key-9876543210';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const HOST_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${HOST_SPAN}-01`;
const SESSION = 'serve-otel-session';

async function receiver(): Promise<OtlpReceiver> {
  const r = await new OtlpReceiver().start();
  receivers.push(r);
  return r;
}

/** `ratri serve --config` with the server's rules and, when given, `telemetry.otlp`. */
async function startServe(d: string, otlp?: Record<string, unknown>, env: Record<string, string> = {}): Promise<ServeProcess> {
  const config = writeConfig(
    d,
    {
      agentKey: 'unused-by-serve',
      guardrails: {
        rules: [
          { id: 'server-no-deletes', tool: 'delete_file', decision: 'block', reason: 'deletes are off (server rule)' },
          { id: 'server-secrets', tool: 'read_file', args: { path: { glob: '/secret/*' } }, decision: 'require_approval' },
        ],
      },
      redactKeys: ['token'],
      ...(otlp ? { telemetry: { otlp } } : {}),
    },
    'serve.json',
  );
  const args = ['--config', config, '--store', join(d, 'serve.db'), '--key-env', KEY_ENV, '--approver-key-env', APPROVER_ENV];
  const serve = await startServeProcess(args, { RATRI_HOME: d, [KEY_ENV]: KEY, [APPROVER_ENV]: APPROVER_KEY, ...env });
  serves.push(serve.child);
  return serve;
}

/** Stops serve as an operator does (SIGTERM): it exports what is queued first. */
function stopServe(serve: ServeProcess): Promise<number | null> {
  serve.child.kill('SIGTERM');
  return serve.exited;
}

function startProxy(d: string, url: string, otlp?: Record<string, unknown>): ProxyProcess {
  const config = writeConfig(d, {
    agentKey: 'otel-agent',
    serverName: 'fs',
    mode: 'enforce',
    environment: 'test',
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    api: { url, keyEnv: KEY_ENV },
    store: 'proxy.db',
    approvalTimeoutMs: 20_000,
    guardTimeoutMs: 5_000,
    telemetry: otlp ? { otlp, jsonl: 'events.jsonl' } : {},
  });
  return track(new ProxyProcess(['--config', config], { RATRI_HOME: d, [KEY_ENV]: KEY, RATRI_SESSION_ID: SESSION }));
}

const call = toolCall;

/** A successful API request's body. */
async function api(url: string, path: string, key: string, body?: unknown) {
  const answer = await apiRequest(url, body === undefined ? 'GET' : 'POST', path, key, body);
  expect(answer.status, path).toBeLessThan(300);
  return answer.body;
}

/** Waits (up to 10 s) for the one pending approval. */
async function pendingApproval(url: string): Promise<{ id: string }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { approvals } = (await api(url, '/v1/approvals?status=pending', KEY)) as { approvals: Array<{ id: string }> };
    if (approvals.length > 0) return approvals[0]!;
    if (Date.now() > deadline) throw new Error('no approval became pending');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The serve span for the call with JSON-RPC id `id` of operation `operation`. */
function spansOf(spans: OtlpSpan[], operation: string, id: string): OtlpSpan[] {
  return spans.filter((s) => s.name.startsWith(`${operation} `) && s.attributes['jsonrpc.request.id'] === id);
}

function sumByDecision(
  points: Array<{ asInt?: string | number; asDouble?: number; attributes: Array<{ key: string; value: { stringValue?: string } }> }>,
) {
  const out: Record<string, number> = {};
  for (const p of points) {
    const decision = String(p.attributes.find((a) => a.key === 'ratri.decision')?.value.stringValue);
    out[decision] = (out[decision] ?? 0) + Number(p.asInt ?? p.asDouble);
  }
  return out;
}

describe('ratri serve exports spans and metrics (telemetry.otlp)', () => {
  it('makes one span per evaluation, approval and upload, each in the trace of the proxy span it answers', async () => {
    const [serveReceiver, proxyReceiver] = [await receiver(), await receiver()];
    const d = dir();
    const serve = await startServe(d, { endpoint: serveReceiver.url, protocol: 'http/json' });
    const proxy = startProxy(d, serve.url, { endpoint: proxyReceiver.url, protocol: 'http/json' });
    await proxy.initialize();
    proxy.send({ jsonrpc: '2.0', id: 'list-1', method: 'tools/list' });
    await proxy.response('list-1');
    proxy.send(call(1, 'read_file', { path: '/etc/hosts' }, { traceparent: TRACEPARENT }));
    expect((await proxy.response(1)).result).toBeDefined();
    proxy.send(call(2, 'delete_file', { path: '/tmp/x' }));
    expect(((await proxy.response(2)).error as { code: number }).code).toBe(-32001);
    proxy.send(call(4, 'read_file', { path: `/tmp/${FAKE.github}` }));
    await proxy.response(4);
    proxy.send(call(3, 'read_file', { path: '/secret/key', token: 'tok-SECRET' }));
    const approval = await pendingApproval(serve.url);
    await api(serve.url, `/v1/approvals/${approval.id}/resolve`, APPROVER_KEY, { approve: true, resolvedBy: 'alice' });
    expect((await proxy.response(3)).result).toBeDefined();
    proxy.child.stdin.end(); // the proxy uploads its events as it stops
    expect((await proxy.exited).code).toBe(0);
    expect(await stopServe(serve)).toBe(0);

    const spans = serveReceiver.spans();
    const proxySpans = proxyReceiver.spans();
    const proxySpan = (id: string) => proxySpans.find((s) => s.attributes['jsonrpc.request.id'] === id)!;

    // The allowed call: host → proxy span → serve span, one trace.
    const [allowed] = spansOf(spans, 'guard/evaluate', '1');
    expect(allowed).toBeDefined();
    expect(allowed!.name).toBe('guard/evaluate read_file');
    expect(allowed!.kind).toBe(2); // SPAN_KIND_SERVER
    expect(proxySpan('1').parentSpanId).toBe(HOST_SPAN);
    expect(allowed!.traceId).toBe(TRACE_ID);
    expect(allowed!.parentSpanId).toBe(proxySpan('1').spanId);
    // The call's events name the proxy's span (schemas/event.schema.json: traceId, spanId).
    const { events } = readEvents(join(d, 'events.jsonl'), compileEventSchema());
    const ended = events.find((e) => e.type === 'agent.tool.completed' && e.data.requestId === '1');
    expect(ended?.data).toMatchObject({ traceId: TRACE_ID, spanId: proxySpan('1').spanId, traceparent: TRACEPARENT });
    expect(allowed!.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.session.id': SESSION,
      'jsonrpc.request.id': '1',
      'gen_ai.tool.name': 'read_file',
      'ratri.decision': 'allow',
      'ratri.action': 'read',
      'ratri.resource': 'file:/etc/hosts',
      'ratri.agent_key': 'otel-agent',
      'ratri.server_name': 'fs',
      'http.request.method': 'POST',
      'http.route': '/v1/guard/evaluate',
      'http.response.status_code': 200,
    });

    // The blocked call had no traceparent: the proxy's span began the trace, serve's is its child.
    const [blocked] = spansOf(spans, 'guard/evaluate', '2');
    expect(blocked!.name).toBe('guard/evaluate delete_file');
    expect(blocked!.attributes).toMatchObject({
      'ratri.decision': 'block',
      'ratri.rule_id': 'server-no-deletes',
      'ratri.action': 'delete',
    });
    expect(proxySpan('2').attributes['error.type']).toBe('-32001');
    expect(blocked!.traceId).toBe(proxySpan('2').traceId);
    expect(blocked!.parentSpanId).toBe(proxySpan('2').spanId);

    // The held call: its evaluation created the approval, and every wait on it is in the call's trace.
    const [held] = spansOf(spans, 'guard/evaluate', '3');
    expect(held!.attributes).toMatchObject({
      'ratri.decision': 'require_approval',
      'ratri.rule_id': 'server-secrets',
      'ratri.approval_id': approval.id,
      'ratri.resource': 'file:/secret/key',
    });
    expect(held!.parentSpanId).toBe(proxySpan('3').spanId);
    expect(proxySpan('3').attributes['ratri.approval_id']).toBe(approval.id);
    const waits = spansOf(spans, 'approvals/wait', '3');
    expect(waits.length).toBeGreaterThan(0);
    for (const w of waits) {
      expect(w.name).toBe('approvals/wait read_file');
      expect(w.traceId).toBe(proxySpan('3').traceId);
      expect(w.parentSpanId).toBe(proxySpan('3').spanId);
      expect(w.attributes).toMatchObject({
        'ratri.approval_id': approval.id,
        'http.route': '/v1/approvals/{id}',
        'mcp.session.id': SESSION,
      });
    }
    expect(waits.at(-1)!.attributes['ratri.approval.status']).toBe('approved');
    // Resolved by the test's own request (no traceparent): a trace of its own.
    const resolved = spans.filter((s) => s.name === 'approvals/resolve read_file');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.attributes).toMatchObject({
      'ratri.approval_id': approval.id,
      'ratri.approval.status': 'approved',
      'ratri.approval.scope': 'once',
    });
    expect(resolved[0]!.parentSpanId ?? '').toBe('');

    const defined = spans.filter((s) => s.name === 'tools/define');
    expect(defined.map((s) => s.attributes)).toEqual([
      expect.objectContaining({ 'mcp.method.name': 'tools/list', 'ratri.agent_key': 'otel-agent', 'ratri.tools.count': 2 }),
    ]);
    const uploads = spans.filter((s) => s.name === 'events/ingest');
    expect(uploads.length).toBeGreaterThan(0);
    expect(uploads.reduce((n, s) => n + Number(s.attributes['ratri.events.count']), 0)).toBeGreaterThan(0);
    expect(uploads[0]!.attributes['ratri.agent_key']).toBe('otel-agent');
    // No span for the listing of approvals (it answers no call).
    expect(spans.some((s) => s.attributes['http.route'] === '/v1/approvals')).toBe(false);
    // Nothing redacted is exported: a secret value in the resource is replaced (docs/secrets.md).
    const [secret] = spansOf(spans, 'guard/evaluate', '4');
    expect(secret!.attributes['ratri.resource']).toMatch(/^file:\/tmp\/\[REDACTED:[a-z-]+\]$/);
    const exported = serveReceiver.received.map((r) => r.body.toString('utf8')).join('');
    expect(exported).not.toContain('tok-SECRET');
    expect(exported).not.toContain(FAKE.github);

    const traces = JSON.parse(serveReceiver.received.find((r) => r.path === '/v1/traces')!.body.toString('utf8'));
    expect(traces.resourceSpans[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'ratri-serve' } });
    const metrics = serveReceiver.metrics();
    expect(sumByDecision(metrics.get('ratri.guardrail.decisions').sum.dataPoints)).toEqual({ allow: 2, block: 1, require_approval: 1 });
    const duration = metrics.get('mcp.server.operation.duration');
    expect(duration.unit).toBe('s');
    expect(duration.histogram.dataPoints.reduce((n: number, p: { count: string }) => n + Number(p.count), 0)).toBe(4);
  });

  it('joins the host trace when the proxy exports no spans but the request carried a traceparent', async () => {
    const serveReceiver = await receiver();
    const d = dir();
    const serve = await startServe(d, { endpoint: serveReceiver.url, protocol: 'http/json' });
    const proxy = startProxy(d, serve.url);
    await proxy.initialize();
    proxy.send(call(1, 'read_file', { path: '/etc/hosts' }, { traceparent: TRACEPARENT }));
    await proxy.response(1);
    proxy.send(call(2, 'read_file', { path: '/etc/hosts' }));
    await proxy.response(2);
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    expect(await stopServe(serve)).toBe(0);
    const spans = serveReceiver.spans();
    const [joined] = spansOf(spans, 'guard/evaluate', '1');
    expect(joined!.traceId).toBe(TRACE_ID);
    expect(joined!.parentSpanId).toBe(HOST_SPAN);
    const [alone] = spansOf(spans, 'guard/evaluate', '2');
    expect(alone!.traceId).not.toBe(TRACE_ID);
    expect(alone!.parentSpanId ?? '').toBe('');
  });
});

describe('ratri serve when the collector is away', () => {
  it('answers at once, and counts the spans it could not export when it stops', async () => {
    const port = await closedPort();
    const d = dir();
    const serve = await startServe(d, { endpoint: `http://127.0.0.1:${port}`, protocol: 'http/json' });
    const request = { agentKey: 'a', environment: 'test', serverName: 'fs', tool: 'read_file', arguments: { path: '/x' } };
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      expect((await api(serve.url, '/v1/guard/evaluate', KEY, request)).decision).toBe('allow');
      expect(Date.now() - started).toBeLessThan(1000);
    }
    const stopping = Date.now();
    expect(await stopServe(serve)).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(8000);
    expect(serve.stderr()).toMatch(/telemetry\.otlp: 3 span\(s\) not exported/);
    // The first failed export is said once (its reason names the endpoint).
    expect(serve.stderr().match(/spans could not be exported to/g)).toHaveLength(1);
  });
});

describe('what `ratri serve` loads', () => {
  const hook = join(root, 'tests', 'helpers', 'module-log-hook.mjs');

  async function loadedBy(otlp?: Record<string, unknown>): Promise<string[]> {
    const d = dir();
    const log = join(d, 'modules.log');
    const serve = await startServe(d, otlp, { NODE_OPTIONS: `--import=${hook}`, RATRI_TEST_MODULE_LOG: log });
    expect(await stopServe(serve)).toBe(0);
    const urls = readFileSync(log, 'utf8').trim().split('\n');
    return urls.filter((u) => u.startsWith('file:')).map((u) => relative(root, new URL(u).pathname));
  }

  it('loads the OpenTelemetry SDK only when telemetry.otlp is set', async () => {
    const without = await loadedBy();
    expect(without).toContain('dist/lib/control/api-server.js'); // the hook saw serve itself
    expect(without.filter((f) => f.startsWith('node_modules/@opentelemetry/') || f === 'dist/lib/control/api-telemetry.js')).toEqual([]);
    // Nothing listens at port 9: nothing is exported, and nothing needs to be.
    const withOtlp = await loadedBy({ endpoint: 'http://127.0.0.1:9', protocol: 'http/json' });
    expect(withOtlp).toContain('dist/lib/control/api-telemetry.js');
    expect(withOtlp.some((f) => f.startsWith('node_modules/@opentelemetry/sdk-trace-base/'))).toBe(true);
  });
});
