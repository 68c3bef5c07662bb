/**
 * Result-phase rules, refusal styles and hideBlockedTools through the built CLI
 * (docs/policy.md#phases-call-and-result, docs/errors.md#refusal-styles,
 * docs/policy.md#hiding-blocked-tools), against fixtures/servers/tools-server.mjs, whose
 * `leak_secret` answers with a GitHub token and a database URL with a password: a result rule
 * refuses or redacts the answer in enforce mode, warns without changing it, and in monitor mode only
 * records; refusals come as errors or as `isError` results; the official SDK client never sees a tool
 * that every call to is blocked.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStore } from '../../lib/control/event-store.js';
import { cleanUpAfterEach, cliPath, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';
import { FAKE } from '../helpers/fake-secrets.js';
import { textOf } from '../helpers/sdk.js';

const { dir, track } = cleanUpAfterEach('ratri-results-');
const PASSWORD = 's3cretPassw0rd';
const upstream = { command: process.execPath, args: [fixtureServer('tools-server.mjs')] };

function start(fields: Record<string, unknown>): { proxy: ProxyProcess; store: string } {
  const d = dir();
  const store = join(d, 'ratri.db');
  const config = writeConfig(d, { agentKey: 'agent-results', serverName: 'tools', store, upstream, ...fields });
  return { proxy: track(new ProxyProcess(['--config', config])), store };
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

async function stop(proxy: ProxyProcess): Promise<void> {
  proxy.child.stdin.end();
  expect((await proxy.exited).code).toBe(0);
}

/** The `agent.guardrail.evaluated` events the store kept, oldest first. */
function evaluations(store: string): Array<Record<string, unknown>> {
  const db = new Database(store, { readonly: true });
  // Read as `ratri events` reads them: a call's events come from its row in `calls` (docs/events.md#one-record-per-call).
  const rows = new EventStore(db).query({ type: 'agent.guardrail.evaluated' });
  db.close();
  return rows.map((r) => r.data);
}

const leakRule = (decision: string) => ({
  id: 'no-secrets-out',
  on: 'result',
  tool: 'leak_secret',
  content: { secrets: true },
  decision,
  reason: 'secrets stay on the server',
});

describe('result rules', () => {
  it('enforce, block: the host gets -32001 with phase result instead of the answer; no secret reaches it', async () => {
    const { proxy, store } = start({ mode: 'enforce', guardrails: { rules: [leakRule('block')] } });
    proxy.send(call(1, 'leak_secret'));
    const answer = await proxy.response(1);
    expect(answer.error).toEqual({
      code: -32001,
      message: 'Blocked by guardrail: secrets stay on the server',
      data: {
        decision: 'block',
        ruleId: 'no-secrets-out',
        reason: 'secrets stay on the server',
        tool: 'tools.leak_secret',
        phase: 'result',
      },
    });
    proxy.send(call(2, 'read_file', { path: '/a' }));
    expect((await proxy.response(2)).result).toEqual({ content: [{ type: 'text', text: 'called read_file' }] });
    await stop(proxy);
    expect(proxy.unread.join('\n')).not.toContain(PASSWORD);
    const judged = evaluations(store).filter((e) => e.phase === 'result');
    expect(judged).toEqual([
      expect.objectContaining({ tool: 'tools.leak_secret', decision: 'block', ruleId: 'no-secrets-out', enforced: true }),
    ]);
  });

  it('enforce, redact: detected secrets are replaced in the answer the host gets, and the event counts them', async () => {
    const { proxy, store } = start({ mode: 'enforce', guardrails: { rules: [leakRule('redact')] } });
    proxy.send(call(1, 'leak_secret'));
    const answer = await proxy.response(1);
    expect(answer.result).toEqual({
      content: [{ type: 'text', text: 'token=[REDACTED:github]\ndb=[REDACTED:database-connection-string]' }],
    });
    await stop(proxy);
    const judged = evaluations(store).filter((e) => e.phase === 'result');
    expect(judged).toEqual([expect.objectContaining({ decision: 'redact', ruleId: 'no-secrets-out', redactions: 2, enforced: true })]);
    expect(JSON.stringify(judged)).not.toContain(PASSWORD);
  });

  it('enforce, warn: the answer reaches the host unchanged, and the decision is recorded', async () => {
    const { proxy, store } = start({ mode: 'enforce', guardrails: { rules: [leakRule('warn')] } });
    proxy.send(call(1, 'leak_secret'));
    const answer = await proxy.response(1);
    expect(textOf(answer.result)).toBe(`token=${FAKE.github}\ndb=${FAKE.postgres}`);
    await stop(proxy);
    expect(evaluations(store).filter((e) => e.phase === 'result')).toEqual([expect.objectContaining({ decision: 'warn', enforced: true })]);
  });

  it('monitor: a block rule on results is judged and recorded, and the answer is never changed', async () => {
    const { proxy, store } = start({ mode: 'monitor', guardrails: { rules: [leakRule('block')] } });
    proxy.send(call(1, 'leak_secret'));
    const answer = await proxy.response(1);
    expect(textOf(answer.result)).toBe(`token=${FAKE.github}\ndb=${FAKE.postgres}`);
    await stop(proxy);
    expect(evaluations(store).filter((e) => e.phase === 'result')).toEqual([
      expect.objectContaining({ decision: 'block', ruleId: 'no-secrets-out', enforced: false }),
    ]);
  });
});

describe('refusal: "result"', () => {
  it('a blocked call is a CallToolResult with isError, the rule and reason in its text, the error data under _meta', async () => {
    const { proxy } = start({
      mode: 'enforce',
      refusal: 'result',
      guardrails: { rules: [{ id: 'no-delete', tool: 'delete_file', decision: 'block', reason: 'deletes are off' }] },
    });
    proxy.send(call(1, 'delete_file', { path: '/a' }));
    expect((await proxy.response(1)).result).toEqual({
      content: [
        { type: 'text', text: 'ratri refused the call to tools.delete_file (rule "no-delete"): Blocked by guardrail: deletes are off' },
      ],
      isError: true,
      _meta: { 'ratri/refusal': { decision: 'block', ruleId: 'no-delete', reason: 'deletes are off', tool: 'tools.delete_file' } },
    });
    await stop(proxy);
  });

  const askRules = { rules: [{ id: 'ask', tool: 'delete_file', decision: 'require_approval' }] };

  it('an approval that times out is an isError result naming the outcome', async () => {
    const { proxy } = start({ mode: 'enforce', refusal: 'result', approvalTimeoutMs: 400, guardrails: askRules });
    proxy.send(call(1, 'delete_file', { path: '/a' }));
    const timedOut = (await proxy.response(1)).result as Record<string, any>;
    expect(timedOut.isError).toBe(true);
    expect(timedOut.content).toEqual([
      {
        type: 'text',
        text: 'ratri held the call to tools.delete_file for approval (rule "ask") and did not run it: Tool call not approved: approval timed out',
      },
    ]);
    expect(timedOut._meta['ratri/refusal']).toEqual({
      decision: 'require_approval',
      approvalId: expect.stringMatching(/^apr_/),
      outcome: 'timeout',
      ruleId: 'ask',
    });
    await stop(proxy);
  });

  it('an approval rejected with "ratri approvals reject" is an isError result naming the outcome', async () => {
    const { proxy, store } = start({ mode: 'enforce', refusal: 'result', guardrails: askRules });
    proxy.send(call(2, 'delete_file', { path: '/b' }));
    let pending: string | undefined;
    for (let i = 0; i < 100 && !pending; i++) {
      const listed = await runCli(['approvals', 'list', '--json', '--store', store]);
      pending = listed.code === 0 ? (JSON.parse(listed.stdout) as Array<{ id: string }>)[0]?.id : undefined;
      if (!pending) await new Promise((r) => setTimeout(r, 100));
    }
    const rejected = await runCli(['approvals', 'reject', pending!, '--store', store]);
    expect(rejected.code, rejected.stderr).toBe(0);
    const answer = (await proxy.response(2)).result as Record<string, any>;
    expect(answer.isError).toBe(true);
    expect(answer.content[0].text).toBe(
      'ratri held the call to tools.delete_file for approval (rule "ask") and did not run it: Tool call not approved: approval was rejected',
    );
    expect(answer._meta['ratri/refusal']).toEqual({
      decision: 'require_approval',
      approvalId: pending,
      outcome: 'rejected',
      ruleId: 'ask',
    });
    await stop(proxy);
  });

  it('the default stays the documented error (-32001) for the same rule', async () => {
    const { proxy } = start({ mode: 'enforce', guardrails: { rules: [{ id: 'no-delete', tool: 'delete_file', decision: 'block' }] } });
    proxy.send(call(1, 'delete_file', { path: '/a' }));
    expect(((await proxy.response(1)).error as { code: number }).code).toBe(-32001);
    await stop(proxy);
  });
});

describe('hideBlockedTools, with the official SDK client', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
  });

  async function connect(fields: Record<string, unknown>): Promise<Client> {
    const d = dir();
    const config = writeConfig(d, { agentKey: 'agent-results', serverName: 'tools', store: join(d, 'ratri.db'), upstream, ...fields });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp', 'proxy', '--config', config],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'ratri-results-e2e', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  const rules = [
    { id: 'no-delete', tool: 'delete_file', decision: 'block' },
    { id: 'no-etc', tool: 'read_file', args: { path: { under: '/etc' } }, decision: 'block' },
  ];

  it('leaves out a tool every call to is blocked, keeps one only some calls to are, and still refuses the hidden one', async () => {
    const client = await connect({ mode: 'enforce', hideBlockedTools: true, guardrails: { rules } });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['read_file']);
    const refused = await client.callTool({ name: 'delete_file', arguments: { path: '/a' } }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('Blocked by guardrail');
  });

  it('lists every tool when it is off (the default), and in monitor mode', async () => {
    for (const fields of [{ mode: 'enforce' }, { mode: 'monitor', hideBlockedTools: true }]) {
      const client = await connect({ ...fields, guardrails: { rules } });
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['read_file', 'delete_file']);
    }
  });
});
