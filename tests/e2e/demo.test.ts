/**
 * `ratri demo` end to end: the built CLI runs the real proxy in front of examples/demo/demo-server.mjs,
 * and what it prints, what it leaves in the store and on disk, and what it leaves running (nothing)
 * are checked from outside, as a newcomer would see them.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APPROVED_FILE, DEMO_TOKEN } from '../../lib/demo/demo-session.js';
import { isAlive, root, runCli, tempDir } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fresh RATRI_HOME, so a kept demo.db is this test's own. */
function home(): string {
  const dir = tempDir('ratri-demo-home-');
  dirs.push(dir);
  return dir;
}

/** A private TMPDIR for the demo's workspace: empty afterwards means the demo cleaned up after itself. */
function tmp(): string {
  const dir = tempDir('ratri-demo-tmp-');
  dirs.push(dir);
  return dir;
}

/** Live processes whose command line or environment mentions `text` (Linux /proc; none found elsewhere). */
function processesMentioning(text: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if ((cmdline.includes(text) || environ.includes(text)) && isAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The demo's temp workspace, from the intro line "sandbox   /tmp/ratri-demo-XXXX/sandbox (…)". */
function workspaceOf(stdout: string): string {
  const match = /^sandbox\s+(\S+)\/sandbox /m.exec(stdout);
  expect(match, stdout).not.toBeNull();
  return match![1]!;
}

describe('ratri demo', () => {
  it('walks through allow, block, approve and reject, exits 0, and leaves nothing behind', async () => {
    const tmpDir = tmp();
    const r = await runCli(['demo'], '', { RATRI_HOME: home(), TMPDIR: tmpDir }, 30_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ read_file was allowed: no rule matched/);
    expect(r.stdout).toMatch(/✗ run_shell was blocked by rule no-shell \(-32001\)/);
    expect(r.stdout).toMatch(/⏸ write_file is held for approval (apr_[0-9a-f]{10}) .*ratri approvals approve \1`/);
    expect(r.stdout).toMatch(/✓ write_file went through once approved/);
    expect(r.stdout).toMatch(/✗ write_file was rejected \(-32002\)/);
    // The table comes from the store's events, not from what the host saw.
    expect(r.stdout).toMatch(/demo\.run_shell\s+block\s+no-shell\s+error -32001/);
    expect(r.stdout).toMatch(/demo\.write_file\s+require_approval\s+confirm-writes\s+approved → completed/);
    expect(r.stdout).toMatch(/demo\.write_file\s+require_approval\s+confirm-writes\s+rejected → error -32002/);
    expect(r.stdout).toContain('Everything behaved as expected');
    expect(r.stdout).toContain('ratri events');
    expect(r.stdout).not.toContain('\u001b['); // not a terminal: no colour
    expect(r.stdout).not.toContain(DEMO_TOKEN);
    const workspace = workspaceOf(r.stdout);
    expect(workspace.startsWith(tmpDir)).toBe(true);
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(processesMentioning(workspace)).toEqual([]);
  });

  it('--json prints a summary with the four outcomes, as seen by the host and as recorded', async () => {
    const tmpDir = tmp();
    const r = await runCli(['demo', '--json'], '', { RATRI_HOME: home(), TMPDIR: tmpDir }, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    expect(s.ok).toBe(true);
    expect(s.problems).toEqual([]);
    expect(s.calls.map((c: any) => [c.tool, c.outcome, c.code, c.ruleId])).toEqual([
      ['read_file', 'allowed', null, null],
      ['run_shell', 'blocked', -32001, 'no-shell'],
      ['write_file', 'approved', null, 'confirm-writes'],
      ['write_file', 'rejected', -32002, 'confirm-writes'],
    ]);
    expect(s.recorded.map((c: any) => [c.decision, c.approval, c.outcome])).toEqual([
      ['allow', null, 'completed'],
      ['block', null, 'failed -32001'],
      ['require_approval', 'approved', 'completed'],
      ['require_approval', 'rejected', 'failed -32002'],
    ]);
    expect(s.proxyExit).toEqual({ code: 0, signal: null, forced: false });
    expect(s.kept).toBe(false);
    expect(s.workspace.startsWith(tmpDir)).toBe(true);
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(s.durationMs).toBeLessThan(10_000);
  });

  it('--keep leaves the store in $RATRI_HOME/demo.db (approvals resolved, token redacted) and the written file', async () => {
    const ratriHome = join(home(), 'not-made-yet'); // made by the demo, 0700
    const r = await runCli(['demo', '--keep'], '', { RATRI_HOME: ratriHome }, 30_000);
    const workspace = workspaceOf(r.stdout);
    dirs.push(workspace); // kept on purpose: removed after the test, pass or fail
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const store = join(ratriHome, 'demo.db');
    expect((statSync(ratriHome).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(store).mode & 0o777).toString(8)).toBe('600');
    const session = /ratri events --store (\S+) --session (\S+)/.exec(r.stdout);
    expect(session?.[1]).toBe(store);
    expect(r.stdout).toContain(`ratri dashboard --store ${store}`);

    const events = await runCli(['events', '--store', store, '--session', session![2]!, '--json'], '', { RATRI_HOME: ratriHome });
    expect(events.code, events.stderr).toBe(0);
    const list = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const resolved = list.filter((e) => e.type === 'agent.approval.resolved').map((e) => e.data.outcome);
    expect(resolved).toEqual(['approved', 'rejected']);
    expect(events.stdout).not.toContain(DEMO_TOKEN);
    const requested = list.filter((e) => e.type === 'agent.approval.requested');
    expect(requested[1]?.data.arguments.token).toBe('[REDACTED]');

    expect(readFileSync(join(workspace, 'sandbox', APPROVED_FILE.path), 'utf8')).toBe(APPROVED_FILE.content);
    expect(existsSync(join(workspace, 'sandbox', 'deploy-key.txt'))).toBe(false);
    // Kept means kept on disk, not left running.
    const pid = list.find((e) => e.type === 'mcp.session.started')?.data.upstream.pid as number;
    expect(isAlive(pid)).toBe(false);
    expect(processesMentioning(workspace)).toEqual([]);
  });

  it('exits 1 with the reason when the kept store cannot be used, and leaves no workspace', async () => {
    const ratriHome = home();
    writeFileSync(join(ratriHome, 'demo.db'), 'this is not a database\n'.repeat(100));
    const tmpDir = tmp();
    const r = await runCli(['demo', '--keep'], '', { RATRI_HOME: ratriHome, TMPDIR: tmpDir }, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ratri: demo: cannot use the store .*demo\.db: file is not a database \(a --keep run writes there/);
    expect(r.stdout).toBe('');
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe('examples/demo/demo-server.mjs', () => {
  it('reads and writes inside its sandbox only, and never runs a shell command', async () => {
    const sandbox = tempDir('ratri-demo-sandbox-');
    dirs.push(sandbox);
    const outside = join(sandbox, '..', `ratri-demo-outside-${process.pid}.txt`);
    const canary = join(sandbox, 'ran.txt');
    const calls: Array<[string, Record<string, unknown>]> = [
      ['write_file', { path: 'a.txt', content: 'inside' }],
      ['read_file', { path: 'a.txt' }],
      ['read_file', { path: '../../../../etc/passwd' }],
      ['write_file', { path: outside, content: 'escaped' }],
      ['run_shell', { command: `touch ${canary}` }],
    ];
    const input = calls
      .map(([name, args], i) => JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name, arguments: args } }))
      .join('\n');
    const child = spawn(process.execPath, [join(root, 'examples', 'demo', 'demo-server.mjs')], {
      env: { ...process.env, DEMO_SANDBOX: sandbox },
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stdin.end(`${input}\n`);
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    const answers = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { result: { content: Array<{ text: string }>; isError?: boolean } });
    const text = (i: number): string => answers[i]!.result.content[0]!.text;
    expect(text(0)).toBe('wrote 6 bytes to a.txt');
    expect(text(1)).toBe('inside');
    expect(answers[2]!.result.isError).toBe(true);
    expect(text(2)).toMatch(/outside the sandbox/);
    expect(answers[3]!.result.isError).toBe(true);
    expect(existsSync(outside)).toBe(false);
    expect(text(4)).toMatch(/^would have run: touch /);
    expect(existsSync(canary)).toBe(false);
  });
});
