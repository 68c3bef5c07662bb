/**
 * OpenTelemetry export (docs/opentelemetry.md), end to end: the built CLI in front of a fixture
 * upstream exports to a real local OTLP/HTTP receiver. Span names and attributes are checked against
 * the MCP semantic conventions, a request's `_meta.traceparent` joins its trace (and is forwarded
 * unchanged), a collector that is away costs no frame (the drops are counted), and protobuf works.
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, ProxyProcess, toolCall, writeConfig } from '../helpers/cli.js';
import { stopChild, waitForOutput } from '../helpers/conformance.js';
import { closedPort, OtlpReceiver } from '../helpers/otlp-receiver.js';

const { dir, track } = cleanUpAfterEach('ratri-otel-');
const receivers: OtlpReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN}-01`;

function config(d: string, otlp: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return writeConfig(d, {
    agentKey: 'otel-agent',
    serverName: 'fs',
    mode: 'enforce',
    environment: 'test',
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    redactKeys: ['token'],
    guardrails: { rules: [{ id: 'no-deletes', tool: 'delete_*', decision: 'block', reason: 'deletes are off' }] },
    telemetry: { otlp, jsonl: 'events.jsonl' },
    ...extra,
  });
}

const call = toolCall;

async function endSession(proxy: ProxyProcess): Promise<number | null> {
  proxy.child.stdin.end();
  return (await proxy.exited).code;
}

describe('OpenTelemetry export (http/json)', () => {
  it('exports one span per tools/call with the MCP semantic conventions, and the metrics', async () => {
    const receiver = await new OtlpReceiver().start();
    receivers.push(receiver);
    const d = dir();
    const proxy = track(
      new ProxyProcess(['--config', config(d, { endpoint: receiver.url, protocol: 'http/json', headers: { 'x-team': 'blue' } })], {
        RATRI_SESSION_ID: 'otel-session',
      }),
    );
    await proxy.initialize();
    proxy.send({ jsonrpc: '2.0', id: 'list-1', method: 'tools/list', params: { _meta: { traceparent: TRACEPARENT } } });
    await proxy.response('list-1');
    proxy.send(call(1, 'read_file', { path: '/etc/hosts', token: 'tok-SECRET' }, { traceparent: TRACEPARENT }));
    await proxy.response(1);
    proxy.send(call(2, 'delete_file', { path: '/tmp/x' }));
    expect(((await proxy.response(2)).error as { code: number }).code).toBe(-32001);
    proxy.send({ ...call(3, 'fail_tool', {}), id: 'call-3' });
    expect(((await proxy.response('call-3')).result as { isError: boolean }).isError).toBe(true);
    expect(await endSession(proxy)).toBe(0);

    const spans = receiver.spans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'tools/call delete_file',
      'tools/call fail_tool',
      'tools/call read_file',
      'tools/list',
    ]);
    const list = spans.find((s) => s.name === 'tools/list')!;
    expect(list.attributes).toEqual({
      'mcp.method.name': 'tools/list',
      'mcp.session.id': 'otel-session',
      'mcp.protocol.version': '2025-06-18',
      'jsonrpc.request.id': 'list-1',
      'network.transport': 'pipe',
    });
    expect(list.kind).toBe(2);
    expect(list.traceId).toBe(TRACE_ID);
    expect(list.parentSpanId).toBe(PARENT_SPAN);
    const read = spans.find((s) => s.name === 'tools/call read_file')!;
    expect(read.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.session.id': 'otel-session',
      'mcp.protocol.version': '2025-06-18',
      'jsonrpc.request.id': '1',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'read_file',
      'network.transport': 'pipe',
      'ratri.decision': 'allow',
      'ratri.action': 'read',
      'ratri.resource': 'file:/etc/hosts',
    });
    expect(read.attributes['error.type']).toBeUndefined();
    // Arguments are opt-in.
    expect(read.attributes['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(read.kind).toBe(2); // SPAN_KIND_SERVER
    // The traceparent of _meta: the span joins the host's trace, as the child of its span.
    expect(read.traceId).toBe(TRACE_ID);
    expect(read.parentSpanId).toBe(PARENT_SPAN);
    expect(BigInt(read.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(read.startTimeUnixNano));

    const blocked = spans.find((s) => s.name === 'tools/call delete_file')!;
    expect(blocked.attributes).toMatchObject({
      'ratri.decision': 'block',
      'ratri.rule_id': 'no-deletes',
      'error.type': '-32001',
      'rpc.response.status_code': '-32001',
    });
    expect(blocked.traceId).not.toBe(TRACE_ID); // no traceparent: a trace of its own
    expect(blocked.parentSpanId ?? '').toBe('');
    expect(blocked.status).toMatchObject({ code: 2, message: 'deletes are off' }); // STATUS_CODE_ERROR, the error's message
    const failed = spans.find((s) => s.name === 'tools/call fail_tool')!;
    expect(failed.attributes['error.type']).toBe('tool_error');
    expect(failed.attributes['jsonrpc.request.id']).toBe('call-3'); // the id's string form, not its JSON text

    const traceExport = receiver.received.find((r) => r.path === '/v1/traces')!;
    expect(traceExport.headers['x-team']).toBe('blue');
    const metrics = receiver.metrics();
    const duration = metrics.get('mcp.server.operation.duration');
    expect(duration.unit).toBe('s');
    const points = duration.histogram.dataPoints as Array<{ count: string | number; attributes: never }>;
    expect(points.reduce((n, p) => n + Number(p.count), 0)).toBe(4); // three calls and the tools/list
    const decisions = metrics.get('ratri.guardrail.decisions');
    // One data point per attribute set (decision, phase, tool): summed by decision.
    const byDecision: Record<string, number> = {};
    for (const p of decisions.sum.dataPoints as Array<{ asInt?: string | number; asDouble?: number; attributes: never }>) {
      const decision = String(flattenDecision(p.attributes));
      byDecision[decision] = (byDecision[decision] ?? 0) + Number(p.asInt ?? p.asDouble);
    }
    expect(byDecision).toEqual({ allow: 2, block: 1 });

    // The forwarded frame kept its _meta byte for byte (the upstream saw the traceparent).
    const events = readFileSync(join(d, 'events.jsonl'), 'utf8');
    expect(events).toContain(`"traceparent":"${TRACEPARENT}"`);
  });

  it('puts the redacted arguments on the span when includeArguments is set', async () => {
    const receiver = await new OtlpReceiver().start();
    receivers.push(receiver);
    const d = dir();
    const proxy = track(
      new ProxyProcess(['--config', config(d, { endpoint: receiver.url, protocol: 'http/json', includeArguments: true })]),
    );
    await proxy.initialize();
    proxy.send(call(1, 'read_file', { path: '/etc/hosts', token: 'tok-SECRET' }));
    await proxy.response(1);
    expect(await endSession(proxy)).toBe(0);
    const [span] = receiver.spans();
    const args = JSON.parse(String(span!.attributes['gen_ai.tool.call.arguments'])) as Record<string, unknown>;
    expect(args.path).toBe('/etc/hosts');
    expect(args.token).not.toBe('tok-SECRET');
    expect(receiver.received.map((r) => r.body.toString('utf8')).join('')).not.toContain('tok-SECRET');
  });
});

function flattenDecision(attributes: Array<{ key: string; value: { stringValue?: string } }>): string | undefined {
  return attributes.find((a) => a.key === 'ratri.decision')?.value.stringValue;
}

describe('OpenTelemetry export when the collector is away', () => {
  it('keeps relaying, and counts the spans it could not export', async () => {
    const port = await closedPort();
    const d = dir();
    const proxy = track(new ProxyProcess(['--config', config(d, { endpoint: `http://127.0.0.1:${port}`, protocol: 'http/json' })]));
    await proxy.initialize();
    for (let id = 1; id <= 5; id++) {
      const started = Date.now();
      proxy.send(call(id, 'read_file', { path: `/f${id}` }));
      await proxy.response(id);
      expect(Date.now() - started).toBeLessThan(1000);
    }
    // The batch processor exports every second, and an export to a closed port retries for 3 s: wait for one to fail while the session runs.
    await new Promise((r) => setTimeout(r, 6000));
    proxy.send(call(6, 'read_file', { path: '/f6' }));
    await proxy.response(6);
    const startedStop = Date.now();
    expect(await endSession(proxy)).toBe(0);
    expect(Date.now() - startedStop).toBeLessThan(8000);
    expect(proxy.stderr).toMatch(/telemetry\.otlp: 6 span\(s\) not exported/);
    const warnings = readFileSync(join(d, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: { kind?: string; reason?: string } })
      .filter((e) => e.type === 'proxy.warning');
    expect(warnings.map((w) => w.data.kind)).toEqual(['otlp_export_failed']);
    expect(warnings[0]!.data.reason).toContain(`http://127.0.0.1:${port}`);
  });
});

describe('OpenTelemetry export (http/protobuf)', () => {
  it('posts protobuf spans to /v1/traces', async () => {
    const receiver = await new OtlpReceiver().start();
    receivers.push(receiver);
    const d = dir();
    const proxy = track(new ProxyProcess(['--config', config(d, { endpoint: `${receiver.url}/` })]));
    await proxy.initialize();
    proxy.send(call(1, 'read_file', { path: '/etc/hosts' }));
    await proxy.response(1);
    expect(await endSession(proxy)).toBe(0);
    const traces = receiver.received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]!.contentType).toBe('application/x-protobuf');
    // Protobuf keeps strings as they are: the span name and the conventions' keys are in the body.
    const body = traces.map((t) => t.body.toString('latin1')).join('');
    for (const s of ['tools/call read_file', 'mcp.method.name', 'gen_ai.tool.name', 'execute_tool']) expect(body).toContain(s);
    expect(receiver.received.some((r) => r.path === '/v1/metrics')).toBe(true);
  });
});

describe('OpenTelemetry export from the HTTP front', () => {
  it('marks the spans network.transport tcp', async () => {
    const receiver = await new OtlpReceiver().start();
    receivers.push(receiver);
    const d = dir();
    const cfg = config(d, { endpoint: receiver.url, protocol: 'http/json' }, { store: join(d, 'ratri.db') });
    const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', cfg, '--transport', 'http', '--port', '0'], {
      env: { ...process.env, RATRI_HOME: d },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      child.stdout.resume();
      const [, url] = await waitForOutput(child, /serving MCP over Streamable HTTP at (http:\/\/\S+)/, 'ratri --transport http');
      const client = new Client({ name: 'otel-http', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(url!));
      await client.connect(transport);
      await client.callTool({ name: 'read_file', arguments: { path: '/etc/hosts' } });
      await transport.terminateSession();
      await client.close();
    } finally {
      await stopChild(child);
    }
    const span = receiver.spans().find((s) => s.name === 'tools/call read_file');
    expect(span?.attributes).toMatchObject({ 'network.transport': 'tcp', 'gen_ai.tool.name': 'read_file', 'ratri.decision': 'allow' });
  });
});
