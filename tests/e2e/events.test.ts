/**
 * The events the proxy writes, end to end: the built CLI in front of a fixture upstream, with a JSONL
 * sink; every line of the file must match schemas/event.schema.json, and each call must leave the
 * sequence of events docs/events.md describes.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer, ProxyProcess, tempDir, writeConfig } from '../helpers/cli.js';
import { compileEventSchema, type RatriEvent, readEvents } from '../helpers/events.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The frame's size as the proxy counts it: bytes of its JSON text, without the newline. */
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** A config in a fresh temp dir (removed after the file's tests) whose events go to a JSONL file there. */
function configWithEvents(fields: Record<string, unknown>): { config: string; events: string } {
  const dir = tempDir();
  dirs.push(dir);
  const events = join(dir, 'events.jsonl');
  return { config: writeConfig(dir, { agentKey: 'events-agent', ...fields, telemetry: { jsonl: events } }), events };
}

const SECRETS = ['hunter2-SECRET', 'sk-SECRET-nested', 'tok-SECRET-in-array', 'pw-SECRET-held'];
const SESSION_ID = 'events-e2e';

describe('events of an enforce-mode session (schemas/event.schema.json)', () => {
  const validate = compileEventSchema();
  let events: RatriEvent[] = [];
  let text = '';
  let exitCode: number | null = null;
  const frames: Record<string, Record<string, unknown>> = {};
  const answers: Record<string, Record<string, unknown>> = {};

  beforeAll(async () => {
    const dir = tempDir();
    dirs.push(dir);
    const config = writeConfig(dir, {
      agentKey: 'events-agent',
      serverName: 'fs',
      mode: 'enforce',
      environment: 'test',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      redactKeys: ['password', 'APIKEY', 'token'],
      approvalTimeoutMs: 300,
      guardrails: {
        rules: [
          { id: 'no-deletes', tool: 'delete_*', decision: 'block', reason: 'deletes are off' },
          { id: 'writes-need-approval', tool: 'fs.write_*', decision: 'require_approval', reason: 'writes need a human' },
        ],
      },
      // Relative: resolves from the config file's folder, not from the proxy's working directory.
      telemetry: { jsonl: 'out/events.jsonl' },
    });
    const proxy = new ProxyProcess(['--config', config], { RATRI_SESSION_ID: SESSION_ID });
    const call = async (key: string, frame: Record<string, unknown>): Promise<void> => {
      frames[key] = frame;
      proxy.send(frame);
      answers[key] = await proxy.response(frame.id);
    };
    await call('init', {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'events-test', version: '1' } },
    });
    proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await call('list1', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await call('allowed', {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: {
        name: 'read_file',
        arguments: {
          path: '/tmp/café.txt',
          PassWord: SECRETS[0],
          options: { nested: { apiKey: SECRETS[1] } },
          headers: [{ name: 'x', token: SECRETS[2] }],
        },
      },
    });
    await call('blocked', {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'delete_file', arguments: { path: '/tmp/b', password: SECRETS[0] } },
    });
    await call('held', {
      jsonrpc: '2.0',
      id: 'call-4',
      method: 'tools/call',
      params: { name: 'write_file', arguments: { path: '/tmp/c', password: SECRETS[3], content: 'x'.repeat(5000) } },
    });
    await call('list2', { jsonrpc: '2.0', id: 5, method: 'tools/list' });
    proxy.child.stdin.end();
    exitCode = (await proxy.exited).code;
    ({ text, events } = readEvents(join(dir, 'out', 'events.jsonl'), validate));
  });

  const byRequest = (requestId: string): RatriEvent[] => events.filter((e) => e.data.requestId === requestId);
  const one = (list: RatriEvent[], type: string): RatriEvent => {
    const found = list.filter((e) => e.type === type);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };

  it('answers the host as the rules say, and exits 0 after the host closes its input', () => {
    expect(answers.allowed!.result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    expect((answers.blocked!.error as { code: number }).code).toBe(-32001);
    expect((answers.held!.error as { code: number }).code).toBe(-32002);
    expect(exitCode).toBe(0);
  });

  it('writes only events that match the schema, all with the session envelope', () => {
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) {
      expect(e).toMatchObject({ agentKey: 'events-agent', environment: 'test', serverName: 'fs', sessionId: SESSION_ID });
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('starts with mcp.session.started and ends with mcp.session.ended', () => {
    expect(events[0]!.type).toBe('mcp.session.started');
    expect(events[0]!.data).toMatchObject({
      mode: 'enforce',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    });
    expect(events[0]!.data.upstream.pid).toEqual(expect.any(Number));
    expect(events.at(-1)!.type).toBe('mcp.session.ended');
    expect(events.at(-1)!.data).toMatchObject({ upstreamExitCode: 0, signal: null, reason: 'host closed stdin', droppedEvents: 0 });
    expect(events.filter((e) => e.type.startsWith('mcp.session.'))).toHaveLength(2);
  });

  it('registers the listed tools, with their annotations, from each tools/list answer', () => {
    const registered = events.filter((e) => e.type === 'mcp.tools.registered');
    expect(registered).toHaveLength(2);
    expect(registered[0]!.data).toEqual({
      // the version the session's initialize asked for (the tools/list request named none of its own)
      protocolVersion: '2025-06-18',
      // the tools/list request's id, and the time from forwarding it to its answer
      requestId: '1',
      durationMs: expect.any(Number),
      count: 2,
      tools: [
        { name: 'fs.read_file', description: 'Reads a file', annotations: { readOnlyHint: true } },
        { name: 'fs.delete_file', description: 'Deletes a file', annotations: { destructiveHint: true, readOnlyHint: false } },
      ],
    });
    expect(registered[1]!.data.tools[0].description).toBe('Reads a file (v2)');
    // Registered before the first call was made.
    expect(events.indexOf(registered[0]!)).toBeLessThan(events.findIndex((e) => e.data.requestId === '2'));
  });

  it('reports mcp.tool.definition_changed for a tool whose description changed, and only for it', () => {
    const changed = events.filter((e) => e.type === 'mcp.tool.definition_changed');
    expect(changed.map((e) => e.data)).toEqual([{ tool: 'fs.read_file' }]);
    const second = events.filter((e) => e.type === 'mcp.tools.registered')[1]!;
    expect(events.indexOf(changed[0]!)).toBe(events.indexOf(second) + 1);
  });

  it('an allowed call: guardrail.evaluated (allow) → tool.started → tool.completed, with sizes in bytes', () => {
    const list = byRequest('2');
    expect(typesOf(list)).toEqual(['agent.guardrail.evaluated', 'agent.tool.started', 'agent.tool.completed']);
    const common = {
      tool: 'fs.read_file',
      requestId: '2',
      action: 'read',
      resource: { type: 'file', value: '/tmp/café.txt' },
      riskLevel: 'low',
    };
    expect(list[0]!.data).toMatchObject({ ...common, decision: 'allow', ruleId: null, reason: 'no rule matched', enforced: true });
    expect(list[1]!.data).toMatchObject({ ...common, argumentsSize: bytes(frames.allowed) });
    expect(list[1]!.data.arguments).toEqual({
      path: '/tmp/café.txt',
      PassWord: '[REDACTED]',
      options: { nested: { apiKey: '[REDACTED]' } },
      headers: [{ name: 'x', token: '[REDACTED]' }],
    });
    expect(list[2]!.data).toMatchObject({ ...common, argumentsSize: bytes(frames.allowed), resultSize: bytes(answers.allowed) });
    expect(list[2]!.data.durationMs).toEqual(expect.any(Number));
    expect(list[2]!.data).not.toHaveProperty('error');
  });

  it('a blocked call: guardrail.evaluated (block, ruleId) → tool.failed with -32001, never started', () => {
    const list = byRequest('3');
    expect(typesOf(list)).toEqual(['agent.guardrail.evaluated', 'agent.tool.failed']);
    const common = {
      tool: 'fs.delete_file',
      requestId: '3',
      action: 'delete',
      resource: { type: 'file', value: '/tmp/b' },
      riskLevel: 'high',
    };
    expect(list[0]!.data).toMatchObject({ ...common, decision: 'block', ruleId: 'no-deletes', reason: 'deletes are off', enforced: true });
    expect(list[1]!.data).toMatchObject({
      ...common,
      error: { code: -32001, message: 'deletes are off' },
      argumentsSize: bytes(frames.blocked),
      resultSize: bytes(answers.blocked),
    });
  });

  it('a call held for approval: evaluated → approval.requested → approval.resolved (timeout) → tool.failed with -32002', () => {
    const list = byRequest('"call-4"');
    expect(typesOf(list)).toEqual(['agent.guardrail.evaluated', 'agent.approval.requested', 'agent.tool.failed']);
    const common = {
      tool: 'fs.write_file',
      requestId: '"call-4"',
      action: 'write',
      resource: { type: 'file', value: '/tmp/c' },
      riskLevel: 'medium',
    };
    expect(list[0]!.data).toMatchObject({ ...common, decision: 'require_approval', ruleId: 'writes-need-approval', enforced: true });
    const requested = list[1]!;
    // With RATRI_SESSION_ID set, approval ids are derived from it (lib/control/approval-store.ts).
    const approvalId = `apr_${createHash('sha256').update(`${SESSION_ID}:1`).digest('hex').slice(0, 10)}`;
    expect(requested.data).toMatchObject({
      approvalId,
      tool: 'fs.write_file',
      requestId: '"call-4"',
      ruleId: 'writes-need-approval',
      reason: 'writes need a human',
      timeoutMs: 300,
    });
    expect(requested.data.arguments.password).toBe('[REDACTED]');
    // Strings longer than 4096 characters are cut in events. (The count in the note is not pinned:
    // arguments are redacted twice, so this version reports the cut of the already-cut string.)
    expect(requested.data.arguments.content).toMatch(/^x{4096}…\[truncated \d+ chars\]$/);
    // approval.resolved carries no requestId: it is found by its approvalId.
    const resolved = one(events, 'agent.approval.resolved');
    expect(resolved.data).toEqual({ approvalId, tool: 'fs.write_file', outcome: 'timeout' });
    expect(events.indexOf(resolved)).toBeGreaterThan(events.indexOf(requested));
    expect(events.indexOf(resolved)).toBeLessThan(events.indexOf(list[2]!));
    expect(list[2]!.data).toMatchObject({
      ...common,
      error: { code: -32002, message: 'approval timeout' },
      argumentsSize: bytes(frames.held),
      resultSize: bytes(answers.held),
    });
    expect(list[2]!.data.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('never writes a redacted value to the file', () => {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
  });
});

describe('events in monitor mode', () => {
  it('forwards a call a rule would block, records the decision as not enforced, and matches the schema', async () => {
    const validate = compileEventSchema();
    const { config, events } = configWithEvents({
      mode: 'monitor',
      upstream: { command: process.execPath, args: [fixtureServer('lifecycle-server.mjs')] },
      guardrails: { rules: [{ id: 'no-exec', tool: 'exec', decision: 'block' }] },
    });
    const proxy = new ProxyProcess(['--config', config]);
    proxy.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'exec', arguments: { command: 'ls' } } });
    expect((await proxy.response(1)).result).toEqual({ ok: true });
    proxy.send('this is not json {');
    proxy.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    await proxy.response(2);
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);
    const list = readEvents(events, validate).events;
    expect(list.every((e) => e.serverName === 'default' && e.environment === 'development')).toBe(true);
    const call = list.filter((e) => e.data.requestId === '1');
    // Monitor mode forwards first, then records what the policy would have done.
    expect(typesOf(call)).toEqual(['agent.tool.started', 'agent.guardrail.evaluated', 'agent.tool.completed']);
    expect(call[1]!.data).toMatchObject({
      tool: 'default.exec',
      action: 'execute',
      resource: { type: 'command', value: 'ls' },
      riskLevel: 'high',
      decision: 'block',
      ruleId: 'no-exec',
      enforced: false,
    });
    const warning = list.find((e) => e.type === 'proxy.warning');
    expect(warning?.data).toMatchObject({ kind: 'invalid_json', enforced: false, frameBytes: 18 });
  });
});

describe('schemas/event.schema.json', () => {
  const validate = compileEventSchema();
  const envelope = {
    id: '00000000-0000-4000-8000-000000000000',
    ts: '2025-01-01T00:00:00.000Z',
    agentKey: 'a',
    environment: 'development',
    serverName: 'fs',
    sessionId: 's',
  };
  const started = {
    ...envelope,
    type: 'agent.tool.started',
    data: { tool: 'fs.x', requestId: '1', action: 'other', resource: null, riskLevel: 'medium', arguments: {}, argumentsSize: 10 },
  };

  it('accepts a well-formed event and refuses unknown types, missing tool fields and a non-object data', () => {
    expect(validate(started)).toBe(true);
    expect(validate({ ...started, type: 'agent.tool.exploded' })).toBe(false);
    const { riskLevel: _riskLevel, ...withoutRisk } = started.data;
    expect(validate({ ...started, data: withoutRisk })).toBe(false);
    expect(validate({ ...started, data: [] })).toBe(false);
    expect(validate({ ...started, data: { ...started.data, action: 'teleport' } })).toBe(false);
  });

  it('requires an error or isError on agent.tool.failed', () => {
    const failed = {
      ...envelope,
      type: 'agent.tool.failed',
      data: {
        tool: 'fs.x',
        requestId: '1',
        action: 'other',
        resource: null,
        riskLevel: 'medium',
        durationMs: 1,
        argumentsSize: 10,
        resultSize: 5,
      },
    };
    expect(validate(failed)).toBe(false);
    expect(validate({ ...failed, data: { ...failed.data, isError: true } })).toBe(true);
    expect(validate({ ...failed, data: { ...failed.data, error: { code: -32001, message: 'no' } } })).toBe(true);
  });
});

function typesOf(list: RatriEvent[]): string[] {
  return list.map((e) => e.type);
}

describe('a tools/call that reuses the id of a held call', () => {
  it('is recorded as proxy.warning request_id_reused (valid against the schema), and the held call is not disturbed', async () => {
    const { config, events } = configWithEvents({
      serverName: 'fs',
      mode: 'enforce',
      approvalTimeoutMs: 300,
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      guardrails: { rules: [{ id: 'ask', tool: 'write_*', decision: 'require_approval' }] },
    });
    const proxy = new ProxyProcess(['--config', config]);
    const write = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'write_file', arguments: { path: '/a' } } };
    proxy.send(write);
    proxy.send(write);
    expect((await proxy.response(5)).error).toMatchObject({ code: -32600 });
    expect((await proxy.response(5)).error).toMatchObject({ code: -32002, data: { outcome: 'timeout' } });
    proxy.child.stdin.end();
    await proxy.exited;
    const list = readEvents(events, compileEventSchema()).events;
    const warnings = list.filter((e) => e.type === 'proxy.warning').map((e) => e.data);
    expect(warnings).toEqual([
      {
        kind: 'request_id_reused',
        reason: 'request id 5 is already used by a call held for approval; send this call with another id',
        requestId: '5',
        method: 'tools/call',
        tool: 'write_file',
        enforced: true,
      },
    ]);
    expect(list.filter((e) => e.type === 'agent.approval.requested')).toHaveLength(1);
  });
});

describe('a request whose id is the number of a call still pending (1 while 1.0 waits), before a JSON.stringify upstream', () => {
  const leak = '{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"leak_secret","arguments":{}}}';
  const read = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/a"}}}';
  const run = async (mode: 'monitor' | 'enforce') => {
    const { config, events } = configWithEvents({
      serverName: 'fs',
      mode,
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      guardrails: { rules: [{ id: 'no-leaks', on: 'result', tool: 'leak_secret', decision: 'block', reason: 'no leaks' }] },
    });
    const proxy = new ProxyProcess(['--config', config]);
    await proxy.initialize();
    proxy.send(leak);
    proxy.send(read);
    const first = await proxy.response(1);
    const second = await proxy.response(1);
    proxy.child.stdin.end();
    await proxy.exited;
    return { first, second, list: readEvents(events, compileEventSchema()).events };
  };
  const warning = (enforced: boolean) => ({
    kind: 'request_id_reused',
    reason: 'request id 1 is the same number as id 1.0, used by a request the upstream has not answered; send this request with another id',
    requestId: '1',
    method: 'tools/call',
    tool: 'read_file',
    enforced,
  });

  it('enforce: is refused -32600, and the upstream\'s answer "id":1 is judged as the first call\'s (its result rule blocks it)', async () => {
    const { first, second, list } = await run('enforce');
    // The leaked text never reaches the host: one refusal for the request, one for the answer.
    expect([first, second].map((m) => (m.error as { code?: number } | undefined)?.code).sort()).toEqual([-32001, -32600]);
    const failed = list.filter((e) => e.type === 'agent.tool.failed').map((e) => e.data);
    expect(failed).toEqual([
      expect.objectContaining({ tool: 'fs.leak_secret', requestId: '1.0', error: expect.objectContaining({ code: -32001 }) }),
    ]);
    expect(list.filter((e) => e.type === 'proxy.warning').map((e) => e.data)).toEqual([warning(true)]);
    expect(list.filter((e) => e.type === 'agent.tool.started').map((e) => e.data.tool)).toEqual(['fs.leak_secret']);
  });

  it('monitor: is forwarded and answered, with a request_id_reused warning that it was not enforced', async () => {
    const { first, second, list } = await run('monitor');
    expect([first, second].every((m) => m !== undefined && 'result' in m)).toBe(true);
    expect(list.filter((e) => e.type === 'proxy.warning').map((e) => e.data)).toEqual([warning(false)]);
  });
});
