/**
 * Both MCP eras over stdio through the built `ratri mcp proxy`, to the v2-SDK dual-era fixture
 * (fixtures/servers/dual-era-server.mjs): the v2 SDK client pinned to 2026-07-28 and in auto mode,
 * and the v1 SDK client (2025-era), in monitor and enforce mode: lists, calls, a block (refused in
 * each era's way), a held call approved with the real `ratri approvals`, and a call that asks for
 * input (2026-07-28: `input_required` and a retry; 2025-era: server-initiated elicitation). An
 * approved call's retry is not held again; a retry with other arguments is (docs/protocol-eras.md).
 */
import { join } from 'node:path';
import { Client as V2Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as V2StdioTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { approvals, pendingApprovals } from '../helpers/approvals.js';
import { cleanUpAfterEach, cliPath, fixtureServer, newStore, ProxyProcess, writeConfig } from '../helpers/cli.js';
import { compileEventSchema, type RatriEvent, readEvents } from '../helpers/events.js';
import { callError, textOf } from '../helpers/sdk.js';

const { dir, track } = cleanUpAfterEach('ratri-dual-era-');

type Kind = 'v2-pinned' | 'v2-auto' | 'v1';
const KINDS: Kind[] = ['v2-pinned', 'v2-auto', 'v1'];
const MODERN = '2026-07-28';

/** One connected client, whichever SDK: what the tests need of it. */
interface Session {
  listTools(): Promise<string[]>;
  call(name: string, args: Record<string, unknown>): Promise<Record<string, any>>;
  /** How many times the server asked this client for input (elicitation), in either era. */
  elicitations: number;
  close(): Promise<void>;
}

const open: Session[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

interface Setup {
  config: string;
  store: string;
  events: string;
}

/** A config for the dual-era fixture behind the proxy, with its own store and events file. */
function setup(mode: 'monitor' | 'enforce', rules: unknown[] = []): Setup {
  const d = dir();
  const store = newStore(d);
  const events = join(d, 'events.jsonl');
  const config = writeConfig(d, {
    agentKey: 'dual-e2e',
    serverName: 'dual',
    mode,
    store,
    approvalTimeoutMs: 20_000,
    telemetry: { jsonl: events },
    guardrails: { rules },
    upstream: { command: process.execPath, args: [fixtureServer('dual-era-server.mjs')] },
  });
  return { config, store, events };
}

const CONFIRM = { action: 'accept' as const, content: { confirm: true } };

async function connect(kind: Kind, s: Setup): Promise<Session> {
  const params = { command: process.execPath, args: [cliPath, 'mcp', 'proxy', '--config', s.config], stderr: 'pipe' as const };
  const session = kind === 'v1' ? await connectV1(params) : await connectV2(params, kind);
  open.push(session);
  return session;
}

async function connectV2(params: { command: string; args: string[] }, kind: Kind): Promise<Session> {
  const versionNegotiation = kind === 'v2-pinned' ? { mode: { pin: MODERN } } : { mode: 'auto' as const };
  const client = new V2Client({ name: 'dual-e2e', version: '1' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation });
  const session: Session = {
    elicitations: 0,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as Record<string, any>,
    close: () => client.close(),
  };
  client.setRequestHandler('elicitation/create', async () => {
    session.elicitations++;
    return CONFIRM;
  });
  await client.connect(new V2StdioTransport({ ...params, stderr: 'pipe' }));
  expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
  return session;
}

async function connectV1(params: { command: string; args: string[] }): Promise<Session> {
  const client = new V1Client({ name: 'dual-e2e', version: '1' }, { capabilities: { elicitation: {} } });
  const session: Session = {
    elicitations: 0,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as Record<string, any>,
    close: () => client.close(),
  };
  client.setRequestHandler(ElicitRequestSchema, async () => {
    session.elicitations++;
    return CONFIRM;
  });
  await client.connect(new V1StdioTransport({ ...params, stderr: 'pipe' }));
  return session;
}

/** Approves the one pending approval, as a second terminal would. */
async function approveOne(store: string): Promise<string> {
  const [approval] = await pendingApprovals(store);
  const r = await approvals(store, 'approve', approval!.id);
  expect(r.code, r.stderr).toBe(0);
  return approval!.id as string;
}

async function allApprovals(store: string): Promise<Array<Record<string, any>>> {
  return JSON.parse((await approvals(store, 'list', '--status', 'all', '--json')).stdout) as Array<Record<string, any>>;
}

const validate = compileEventSchema();

/** The session's events, every one checked against schemas/event.schema.json. */
function events(s: Setup): RatriEvent[] {
  return readEvents(s.events, validate).events;
}

const TOOLS = ['echo', 'write_file', 'confirm_write'];
const BLOCK_ETC = { id: 'no-etc', tool: '*', args: { path: { under: '/etc' } }, decision: 'block', reason: '/etc is off-limits' };

describe.each(KINDS)('%s client → ratri mcp proxy → dual-era server', (kind) => {
  const modern = kind !== 'v1';

  it('monitor: lists, calls, and a call that asks for input answered in its era', async () => {
    const s = setup('monitor', [BLOCK_ETC]);
    const session = await connect(kind, s);
    expect(await session.listTools()).toEqual(TOOLS);
    expect(textOf(await session.call('echo', { text: 'hi' }))).toBe('hi');
    expect(textOf(await session.call('write_file', { path: '/etc/x', content: 'abc' }))).toBe('wrote 3 bytes to /etc/x');
    expect(textOf(await session.call('confirm_write', { path: '/tmp/a' }))).toBe('confirmed write to /tmp/a');
    expect(session.elicitations).toBe(1);
    await session.close();
    const all = events(s);
    // Each tool event names the protocol version its request was made under: the request's _meta
    // (2026-07-28), or the session's initialize (2025 era); tools.registered that of the tools/list.
    const toolEvents = all.filter((e) => e.type.startsWith('agent.'));
    expect(toolEvents.length).toBeGreaterThan(5);
    const version = modern ? MODERN : expect.stringMatching(/^2025-/);
    for (const e of toolEvents) expect(e.data.protocolVersion, e.type).toEqual(version);
    expect(all.find((e) => e.type === 'mcp.tools.registered')?.data.protocolVersion).toEqual(version);
    const confirm = all.filter((e) => e.type.startsWith('agent.tool.') && e.data.tool === 'dual.confirm_write');
    if (modern) {
      // Round 1 was answered input_required; its retry is round 2 and names round 1's request id.
      const finished = confirm.filter((e) => e.type === 'agent.tool.completed');
      expect(finished).toHaveLength(2);
      expect(finished[0]!.data).toMatchObject({ inputRequired: true });
      expect(finished[0]!.data.round).toBeUndefined();
      expect(finished[1]!.data).toMatchObject({ round: 2, firstCallId: finished[0]!.data.requestId });
      expect(finished[1]!.data.inputRequired).toBeUndefined();
    } else {
      expect(confirm.map((e) => e.type)).toEqual(['agent.tool.started', 'agent.tool.completed']);
      expect(confirm.some((e) => e.data.round !== undefined || e.data.inputRequired)).toBe(false);
    }
  });

  it('enforce: a blocked call is refused the way its era allows', async () => {
    const s = setup('enforce', [BLOCK_ETC]);
    const session = await connect(kind, s);
    expect(await session.listTools()).toEqual(TOOLS);
    expect(textOf(await session.call('echo', { text: 'hi' }))).toBe('hi');
    const block = { decision: 'block', ruleId: 'no-etc', reason: '/etc is off-limits', tool: 'dual.write_file' };
    if (modern) {
      const refused = await session.call('write_file', { path: '/etc/passwd' });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe('ratri refused the call to dual.write_file (rule "no-etc"): Blocked by guardrail: /etc is off-limits');
      expect(refused._meta?.['ratri/refusal']).toEqual(block);
    } else {
      const err = await callError(session.call('write_file', { path: '/etc/passwd' }));
      expect(err.code).toBe(-32001);
      expect(err.data).toEqual(block);
    }
    await session.close();
    const failed = events(s).find((e) => e.type === 'agent.tool.failed');
    const recorded = { code: -32001, message: '/etc is off-limits' };
    expect(failed?.data).toMatchObject(modern ? { isError: true, refusal: recorded } : { error: recorded });
  });

  it('enforce: a held call runs once approved', async () => {
    const s = setup('enforce', [{ id: 'ask-writes', tool: 'write_file', decision: 'require_approval' }]);
    const session = await connect(kind, s);
    const answer = session.call('write_file', { path: '/tmp/x', content: 'ab' });
    await approveOne(s.store);
    expect(textOf(await answer)).toBe('wrote 2 bytes to /tmp/x');
  });

  it('enforce: a call that asks for input is approved once, its retry is not held again', async () => {
    const s = setup('enforce', [{ id: 'ask-confirm', tool: 'confirm_write', decision: 'require_approval' }]);
    const session = await connect(kind, s);
    const answer = session.call('confirm_write', { path: '/tmp/a' });
    const approvalId = await approveOne(s.store);
    expect(textOf(await answer)).toBe('confirmed write to /tmp/a');
    expect(session.elicitations).toBe(1);
    expect((await allApprovals(s.store)).map((a) => a.id)).toEqual([approvalId]);
    await session.close();
    if (!modern) return;
    const retryEvaluated = events(s).find((e) => e.type === 'agent.guardrail.evaluated' && e.data.round === 2);
    expect(retryEvaluated?.data).toMatchObject({ decision: 'require_approval', approvedInEarlierRound: approvalId });
  });
});

describe('enforce: a retry is tied to the approved round by tool, exact arguments and requestState', () => {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
  };
  const call = (id: number, path: string, retry?: { requestState: unknown }) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'confirm_write', arguments: { path }, ...(retry && { inputResponses: { confirm: CONFIRM }, ...retry }), _meta: meta },
  });

  it('holds a retry with other arguments, or one that replays a used round; passes the true retry unheld', async () => {
    const s = setup('enforce', [{ id: 'ask-confirm', tool: 'confirm_write', decision: 'require_approval' }]);
    const proxy = track(new ProxyProcess(['--config', s.config]));
    proxy.send(call(1, '/tmp/a'));
    await approveOne(s.store);
    const first = await proxy.response(1);
    expect(first.result).toMatchObject({ resultType: 'input_required', requestState: 'confirm-write:/tmp/a' });

    // Dressed as the retry of the approved call, but for another path: judged afresh, so held.
    proxy.send(call(2, '/tmp/b', { requestState: 'confirm-write:/tmp/a' }));
    const [dressed] = await pendingApprovals(s.store);
    expect(dressed).toMatchObject({ requestId: '2', arguments: { path: '/tmp/b' } });

    // The true retry continues the approved round: forwarded at once.
    proxy.send(call(3, '/tmp/a', { requestState: 'confirm-write:/tmp/a' }));
    const done = await proxy.response(3);
    expect(textOf(done.result)).toBe('confirmed write to /tmp/a');

    // The round is used: the same retry again is a new call, held.
    proxy.send(call(4, '/tmp/a', { requestState: 'confirm-write:/tmp/a' }));
    const pending = await pendingApprovals(s.store, 2);
    expect(pending.map((a) => a.requestId).sort()).toEqual(['2', '4']);
    expect(proxy.unread.some((l) => l.includes('"id":2') || l.includes('"id":4'))).toBe(false);

    proxy.child.stdin.end();
    await proxy.exited;
    const all = events(s);
    const unmatched = all.filter((e) => e.type === 'proxy.warning' && e.data.kind === 'unmatched_retry');
    expect(unmatched.map((e) => e.data.requestId)).toEqual(['2', '4']);
    const retry = all.find((e) => e.type === 'agent.guardrail.evaluated' && e.data.requestId === '3');
    expect(retry?.data).toMatchObject({ round: 2, firstCallId: '1', approvedInEarlierRound: expect.stringMatching(/^apr_/) });
  });
});
