/**
 * Secrets by value through the built CLI (docs/secrets.md): a token in a call's arguments, secrets
 * in a fixture upstream's results, a private key that server-filesystem reads from a file. Nothing
 * ratri keeps (the SQLite store, the JSONL sink, `ratri events`, a `--record` file, an approval)
 * holds a value; a `content.secrets` rule blocks the call in enforce mode; a `content.regex` rule
 * matches the arguments' text; `secrets.redact: false` keeps the old behaviour; a disabled rule is
 * not applied.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, filesystemServer, fixtureServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';
import { FAKE } from '../helpers/fake-secrets.js';

const { dir, track } = cleanUpAfterEach('ratri-secrets-');

/** The password in FAKE.postgres (and the fixture's leak_secret answer). */
const PASSWORD = 's3cretPassw0rd';

interface Run {
  store: string;
  jsonl: string;
  record: string;
  proxy: ProxyProcess;
}

function start(d: string, fields: Record<string, unknown>, upstream?: { command: string; args: string[] }): Run {
  const store = join(d, 'ratri.db');
  const jsonl = join(d, 'events.jsonl');
  const record = join(d, 'session.golden.jsonl');
  const config = writeConfig(d, {
    agentKey: 'agent-secrets',
    serverName: 'tools',
    store,
    telemetry: { jsonl },
    upstream: upstream ?? { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    ...fields,
  });
  return { store, jsonl, record, proxy: track(new ProxyProcess(['--config', config, '--record', record])) };
}

async function stop(run: Run): Promise<void> {
  run.proxy.child.stdin.end();
  expect((await run.proxy.exited).code).toBe(0);
}

/** Everything ratri kept: the store's events and approvals, the JSONL sink, `ratri events`, the recording. */
async function kept(run: Run): Promise<string> {
  const db = new Database(run.store, { readonly: true });
  // The events table, and the calls table's text columns (docs/events.md#one-record-per-call).
  const texts = db.prepare("SELECT data FROM events UNION ALL SELECT concat_ws('\n', arguments, base, parts) FROM calls").pluck();
  const events = (texts.all() as string[]).join('\n');
  const approvals = (db.prepare('SELECT arguments FROM approvals').pluck().all() as string[]).join('\n');
  db.close();
  const shown = await runCli(['events', '--store', run.store, '--json']);
  expect(shown.code, shown.stderr).toBe(0);
  return [events, approvals, readFileSync(run.jsonl, 'utf8'), shown.stdout, readFileSync(run.record, 'utf8')].join('\n');
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('secrets in arguments', () => {
  it('monitor mode: the call is forwarded as sent, and nothing kept holds the token', async () => {
    const run = start(dir(), { mode: 'monitor' });
    run.proxy.send(call(1, 'read_file', { path: '/a', auth: `Bearer ${FAKE.github}`, dsn: FAKE.postgres }));
    expect((await run.proxy.response(1)).result).toBeDefined();
    await stop(run);
    const all = await kept(run);
    expect(all).toContain('[REDACTED:github]');
    expect(all).toContain('[REDACTED:database-connection-string]');
    expect(all).not.toContain(FAKE.github);
    expect(all).not.toContain(PASSWORD);
  });

  it('enforce mode: a content.secrets rule blocks the call (-32001) and names the rule, never the value', async () => {
    const run = start(dir(), {
      mode: 'enforce',
      guardrails: { rules: [{ id: 'no-secrets-out', content: { secrets: true }, decision: 'block', reason: 'a secret in the arguments' }] },
    });
    run.proxy.send(call(1, 'read_file', { path: '/a', token: FAKE.github }));
    run.proxy.send(call(2, 'read_file', { path: '/b' }));
    const blocked = await run.proxy.response(1);
    expect(blocked.error).toMatchObject({ code: -32001, data: { ruleId: 'no-secrets-out', reason: 'a secret in the arguments' } });
    expect(JSON.stringify(blocked)).not.toContain(FAKE.github);
    expect((await run.proxy.response(2)).result).toBeDefined(); // no secret: forwarded
    await stop(run);
    expect(await kept(run)).not.toContain(FAKE.github);
  });

  it('enforce mode: a content.regex rule matches a string value at any depth', async () => {
    const run = start(dir(), {
      mode: 'enforce',
      guardrails: { rules: [{ id: 'no-drops', content: { regex: 'drop\\s+table', flags: 'i' }, decision: 'block' }] },
    });
    run.proxy.send(call(1, 'read_file', { path: '/a', q: { sql: ['select 1', 'DROP  TABLE users'] } }));
    run.proxy.send(call(2, 'read_file', { path: '/b', 'drop table': 'a key, not a value' }));
    expect((await run.proxy.response(1)).error).toMatchObject({ code: -32001, data: { ruleId: 'no-drops' } });
    expect((await run.proxy.response(2)).result).toBeDefined();
    await stop(run);
  });

  it('an approval keeps the arguments with the token redacted', async () => {
    const run = start(dir(), {
      mode: 'enforce',
      approvalTimeoutMs: 30_000,
      guardrails: { rules: [{ id: 'ask', tool: 'read_file', decision: 'require_approval' }] },
    });
    run.proxy.send(call(1, 'read_file', { path: '/a', token: FAKE.github }));
    let listed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && listed.length === 0; i++) {
      const r = await runCli(['approvals', 'list', '--json', '--store', run.store]);
      listed = r.code === 0 ? (JSON.parse(r.stdout) as Array<Record<string, unknown>>) : [];
      if (listed.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(listed[0]?.arguments).toEqual({ path: '/a', token: '[REDACTED:github]' });
    await stop(run);
    expect(await kept(run)).not.toContain(FAKE.github);
  });

  it('secrets.redact false keeps the old behaviour: the value is kept as sent', async () => {
    const run = start(dir(), { mode: 'monitor', secrets: { redact: false } });
    run.proxy.send(call(1, 'read_file', { path: '/a', token: FAKE.github }));
    await run.proxy.response(1);
    await stop(run);
    const all = await kept(run);
    expect(all).toContain(FAKE.github);
    expect(all).not.toContain('[REDACTED:');
  });

  it('a disabled rule is not applied: not by content.secrets, not by redaction', async () => {
    const run = start(dir(), {
      mode: 'enforce',
      secrets: { disabledRules: ['github'] },
      guardrails: { rules: [{ id: 'no-secrets-out', content: { secrets: true }, decision: 'block' }] },
    });
    run.proxy.send(call(1, 'read_file', { path: '/a', token: FAKE.github }));
    run.proxy.send(call(2, 'read_file', { path: '/a', dsn: FAKE.postgres }));
    expect((await run.proxy.response(1)).result).toBeDefined();
    expect((await run.proxy.response(2)).error).toMatchObject({ code: -32001 });
    await stop(run);
    const all = await kept(run);
    expect(all).toContain(FAKE.github);
    expect(all).not.toContain(PASSWORD);
  });
});

describe('secrets in results', () => {
  it("a fixture upstream's answer reaches the host as sent, and the recording keeps it redacted", async () => {
    const run = start(dir(), { mode: 'monitor' });
    run.proxy.send(call(1, 'leak_secret', {}));
    const answer = await run.proxy.response(1);
    expect(JSON.stringify(answer)).toContain(FAKE.github); // the host gets the upstream's answer byte for byte
    await stop(run);
    const recording = readFileSync(run.record, 'utf8');
    expect(recording).toContain('token=[REDACTED:github]');
    expect(await kept(run)).not.toContain(FAKE.github);
    expect(await kept(run)).not.toContain(PASSWORD);
  });

  it('server-filesystem reading a file that holds a private key: the recording and the events keep none of it', async () => {
    const d = dir();
    const files = realpathSync(d);
    const keyFile = join(files, 'deploy.pem');
    writeFileSync(keyFile, FAKE.privateKey);
    const body = FAKE.privateKey.split('\n')[1]!; // a line of the key's base64 body
    const run = start(d, { mode: 'monitor' }, { command: process.execPath, args: [filesystemServer, files] });
    run.proxy.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await run.proxy.response(0);
    run.proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    run.proxy.send(call(1, 'read_text_file', { path: keyFile }));
    const answer = await run.proxy.response(1);
    expect(JSON.stringify(answer)).toContain(body);
    await stop(run);
    const all = await kept(run);
    expect(all).toContain('[REDACTED:privatekey]');
    expect(all).not.toContain(body);
  });
});

describe('ratri rules test', () => {
  it('scans the arguments as the proxy does and shows what a content rule saw, never the value', async () => {
    const d = dir();
    const file = writeConfig(d, {
      agentKey: 'a',
      upstream: { command: 'unused' },
      guardrails: {
        rules: [
          { id: 'no-secrets-out', content: { secrets: true }, decision: 'block' },
          { id: 'no-drops', content: { regex: 'drop table' }, decision: 'warn' },
        ],
      },
    });
    const hit = await runCli(['rules', 'test', '-c', file, '--tool', 'read_file', '--args', JSON.stringify({ token: FAKE.github })]);
    expect(hit.code, hit.stderr).toBe(3);
    expect(hit.stdout).toContain('content {"secrets":true} matched: 1 text(s), secrets found by github');
    expect(hit.stdout).toContain('content {"regex":"drop table"} does not match: 1 text(s), secrets found by github');
    expect(hit.stdout).not.toContain(FAKE.github);
    const miss = await runCli(['rules', 'test', '-c', file, '--tool', 'read_file', '--args', '{"path":"/a"}']);
    expect(miss.code, miss.stderr).toBe(0);
    expect(miss.stdout).toContain('content {"secrets":true} does not match: 1 text(s), no secret found');
  });
});
