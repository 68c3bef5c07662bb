/**
 * Approvals end to end on the embedded store: a proxy holds a call, a second process (the real
 * `ratri approvals` command) resolves it, and the proxy forwards the exact original bytes or answers
 * -32002. Everything is real: the CLI, the fixture upstream, the SQLite file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvals, pendingApprovals } from '../helpers/approvals.js';
import { cleanUpAfterEach, fixtureServer, newStore, ProxyProcess, root, runCli, tempDir, writeConfig } from '../helpers/cli.js';

const { track } = cleanUpAfterEach('ratri-approvals-');

interface Setup {
  dir: string;
  store: string;
  record: string;
  proxy: ProxyProcess;
}

/** An enforce-mode proxy in front of the byte recorder, with its own store. */
function start(rules: unknown[], approvalTimeoutMs = 20_000, store?: string): Setup {
  const dir = track(tempDir('ratri-approvals-'));
  const record = join(dir, 'upstream-received.bin');
  const storePath = store ?? newStore(dir);
  const config = writeConfig(dir, {
    agentKey: 'agent-approvals',
    serverName: 'files',
    mode: 'enforce',
    approvalTimeoutMs,
    redactKeys: ['token'],
    store: storePath,
    guardrails: { rules },
    upstream: {
      command: process.execPath,
      args: [fixtureServer('byte-recorder.mjs')],
      env: { RECORD_FILE: record, SENT_FILE: join(dir, 'sent.bin') },
    },
  });
  const proxy = new ProxyProcess(['--config', config]);
  track(proxy);
  return { dir, store: storePath, record, proxy };
}

const received = (s: Setup): string => (existsSync(s.record) ? readFileSync(s.record, 'utf8') : '');

// Unusual but valid bytes: spaces, key order, an escaped é. Forwarded, they must arrive exactly so.
const HELD_CALL =
  '{ "id" : 7,"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"path":"/srv/caf\\u00e9.txt","token":"tok-SECRET"},"name":"write_file"}}';

describe('approvals across processes (embedded store)', () => {
  it('holds the call, and after "ratri approvals approve" upstream receives its exact original bytes', async () => {
    const s = start([{ id: 'ask-writes', tool: 'write_*', decision: 'require_approval' }]);
    s.proxy.send(HELD_CALL);
    s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'ping' }); // other traffic is not held up
    await s.proxy.response(8);
    const [approval] = await pendingApprovals(s.store);
    expect(approval).toMatchObject({ status: 'pending', serverName: 'files', tool: 'write_file', ruleId: 'ask-writes', requestId: '7' });
    expect(approval!.arguments).toEqual({ path: '/srv/café.txt', token: '[REDACTED]' });
    expect(received(s)).not.toContain('write_file');

    const listed = await approvals(s.store, 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(approval!.id);
    expect(listed.stdout).not.toContain('tok-SECRET');

    const approved = await approvals(s.store, 'approve', approval!.id, '--by', 'alice');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved apr_\w+: files\.write_file; the waiting proxy forwards the call/);
    const answer = await s.proxy.response(7, 5000);
    expect(answer.result).toBeDefined();
    expect(received(s)).toContain(`${HELD_CALL}\n`);

    const again = await approvals(s.store, 'approve', approval!.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already approved .* by alice; nothing changed/);
  });

  it('shows the approver every character of the arguments (redacted, never cut at 4096), and "approvals show" prints them whole', async () => {
    const s = start([{ id: 'ask', tool: 'write_*', decision: 'require_approval' }]);
    const content = `${'x'.repeat(9000)}END-OF-A-LONG-STRING`;
    s.proxy.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'write_file', arguments: { path: '/a', content, token: 'tok-SECRET' } },
    });
    const [approval] = await pendingApprovals(s.store);
    expect(approval!.arguments).toEqual({ path: '/a', content, token: '[REDACTED]' });

    const shown = await approvals(s.store, 'show', approval!.id);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(JSON.stringify(content));
    expect(shown.stdout).toMatch(/arguments \(redacted, \d+ bytes\):/);
    expect(shown.stdout).not.toContain('tok-SECRET');
    const asJson = JSON.parse((await approvals(s.store, 'show', approval!.id, '--json')).stdout) as Record<string, any>;
    expect(asJson.arguments.content).toBe(content);

    // Past 64 KiB a list says how large the arguments are and where to read them; show still prints them whole.
    const huge = 'y'.repeat(70_000);
    s.proxy.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'write_file', arguments: { content: huge } } });
    const list = await pendingApprovals(s.store, 2);
    const big = list.find((a) => a.requestId === '8')!;
    expect(big.arguments.content).toBe(huge);
    const table = await approvals(s.store, 'list');
    expect(table.stdout).toContain(
      `too large to show here: ${JSON.stringify({ content: huge }).length} bytes (ratri approvals show ${big.id})`,
    );
    expect(table.stdout).not.toContain('yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy');
    expect((await approvals(s.store, 'show', big.id)).stdout).toContain(huge);
    const missing = await approvals(s.store, 'show', 'apr_nothere00');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no approval "apr_nothere00"');
  });

  it('learns of the resolution within 250 ms (it polls the store every 100 ms)', async () => {
    const s = start([{ id: 'ask', tool: 'write_*', decision: 'require_approval' }]);
    s.proxy.send(HELD_CALL);
    const [approval] = await pendingApprovals(s.store);
    // Resolved here, in the test process, so the moment of resolution is known exactly.
    const { LocalControlPlane } = await import('../../lib/control/local-control-plane.js');
    const plane = LocalControlPlane.open(s.store);
    const resolvedAt = performance.now();
    plane.resolveApprovalNow(approval!.id, true, 'once', 'test');
    await plane.close();
    await s.proxy.response(7, 5000);
    // The answer's round trip through the upstream is included; on a loaded machine allow slack.
    expect(performance.now() - resolvedAt).toBeLessThan(750);
  });

  it('answers -32002 "rejected" after "ratri approvals reject", and never forwards the call', async () => {
    const s = start([{ id: 'ask', tool: 'write_*', decision: 'require_approval' }]);
    s.proxy.send(HELD_CALL);
    const [approval] = await pendingApprovals(s.store);
    const rejected = await approvals(s.store, 'reject', approval!.id);
    expect(rejected.code, rejected.stderr).toBe(0);
    const answer = await s.proxy.response(7, 5000);
    expect(answer.error).toMatchObject({
      code: -32002,
      data: { decision: 'require_approval', approvalId: approval!.id, outcome: 'rejected', ruleId: 'ask' },
    });
    s.proxy.child.stdin.end();
    await s.proxy.exited;
    expect(received(s)).not.toContain('write_file');
  });

  it('answers -32002 "timeout" when nobody answers, and the approval is expired in the store', async () => {
    const s = start([{ id: 'ask', tool: 'write_*', decision: 'require_approval' }], 300);
    s.proxy.send(HELD_CALL);
    const answer = await s.proxy.response(7, 5000);
    expect(answer.error).toMatchObject({ code: -32002, data: { outcome: 'timeout' } });
    const all = JSON.parse((await approvals(s.store, 'list', '--status', 'all', '--json')).stdout) as Array<Record<string, any>>;
    expect(all.map((a) => a.status)).toEqual(['expired']);
    const late = await approvals(s.store, 'approve', all[0]!.id);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/already expired/);
    expect(received(s)).not.toContain('write_file');
  });

  it('"approve --always" adds the tool to the boundary map: a later proxy on the same store does not ask again', async () => {
    const rules = [{ template: 'require_approval_unknown_mcp_tools' }];
    const s = start(rules);
    s.proxy.send(HELD_CALL);
    const [approval] = await pendingApprovals(s.store);
    expect((await approvals(s.store, 'approve', approval!.id, '--always')).stdout).toMatch(
      /\nalways: files\.write_file joined the approved tools of agent agent-approvals and its current definition is trusted, so require_approval_unknown_mcp_tools no longer asks for it\.\n$/,
    );
    await s.proxy.response(7, 5000);

    const second = start(rules, 20_000, s.store);
    second.proxy.send(HELD_CALL);
    expect((await second.proxy.response(7, 5000)).result).toBeDefined();
    second.proxy.send('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"other_tool","arguments":{}}}');
    expect(await pendingApprovals(s.store, 1)).toEqual([expect.objectContaining({ tool: 'other_tool' })]);
  });

  it('"approve --always" on a hold a rule asked for says the rule still applies, and the rule holds the next call', async () => {
    const s = start([{ id: 'writes-need-a-human', tool: 'write_*', decision: 'require_approval' }]);
    s.proxy.send(HELD_CALL);
    const [approval] = await pendingApprovals(s.store);
    const approved = await approvals(s.store, 'approve', approval!.id, '--always');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(
      'rule "writes-need-a-human" asked for this approval and still applies: its next matching call is held again (--always changes no rule)',
    );
    expect(approved.stdout).not.toContain('no longer asks');
    await s.proxy.response(7, 5000);
    s.proxy.send(HELD_CALL.replace('"id" : 7', '"id" : 8'));
    expect(await pendingApprovals(s.store, 1)).toEqual([expect.objectContaining({ tool: 'write_file', requestId: '8' })]);
  });

  it('never creates an approval for a tools/call notification (nothing could be answered)', async () => {
    const s = start([{ id: 'ask', tool: 'write_*', decision: 'require_approval' }]);
    s.proxy.send('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"write_file","arguments":{}}}');
    s.proxy.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await s.proxy.response(1);
    const all = await approvals(s.store, 'list', '--status', 'all', '--json');
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual([]);
  });

  it('says clearly when the approval id does not exist', async () => {
    const s = start([]);
    const r = await approvals(s.store, 'approve', 'apr_nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no approval "apr_nope"');
  });

  it('works as the README shows: the example config, a held call, approval from a second terminal, then ratri events', async () => {
    const home = track(tempDir('ratri-readme-home-'));
    const env = { RATRI_HOME: home }; // the default store, as a new user has it: $RATRI_HOME/ratri.db
    const proxy = new ProxyProcess(['--config', join(root, 'examples', 'ratri.mcp.json')], env);
    track(proxy);
    for (const line of readFileSync(join(root, 'examples', 'held-call.jsonl'), 'utf8')
      .trim()
      .split('\n'))
      proxy.send(line);
    await proxy.response(1, 15_000);

    let list: Array<Record<string, any>> = [];
    for (let i = 0; i < 100 && list.length === 0; i++) {
      const r = await runCli(['approvals', 'list', '--json'], '', env);
      expect(r.code, r.stderr).toBe(0);
      list = JSON.parse(r.stdout) as Array<Record<string, any>>;
      if (list.length === 0) await new Promise((res) => setTimeout(res, 100));
    }
    expect(list).toEqual([
      expect.objectContaining({ tool: 'trigger-long-running-operation', ruleId: 'confirm-long-tasks', serverName: 'everything' }),
    ]);
    const approved = await runCli(['approvals', 'approve', list[0]!.id], '', env);
    expect(approved.code, approved.stderr).toBe(0);
    expect((await proxy.response(2, 15_000)).result).toBeDefined();
    proxy.child.stdin.end();
    expect((await proxy.exited).code).toBe(0);

    const events = await runCli(['events', '--since', '10m'], '', env);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toMatch(/agent\.approval\.requested\s+everything\.trigger-long-running-operation/);
    expect(events.stdout).toMatch(/agent\.approval\.resolved\s+everything\.trigger-long-running-operation\s+apr_\w+ approved/);
    expect(events.stdout).toMatch(/agent\.tool\.completed\s+everything\.trigger-long-running-operation/);
  });
});
