/**
 * `ratri doctor --mcp`, end to end: the built CLI against real upstreams (the fixture tools-server,
 * @modelcontextprotocol/server-everything, a server that never answers, one that crashes), a real
 * store, a closed port and a real `ratri serve`. Each test checks the exit code, the ✓/✗ lines and
 * their fix hints, and that no upstream process is left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cliPath, everythingServer, filesystemServer, fixtureServer, isAlive, runCli, tempDir, writeConfig } from '../helpers/cli.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function workDir(): string {
  const dir = tempDir('ratri-doctor-');
  dirs.push(dir);
  return dir;
}

const toolsUpstream = { command: process.execPath, args: [fixtureServer('tools-server.mjs')] };

/** A config in a fresh folder, with its own store there. */
function config(fields: Record<string, unknown>): { dir: string; path: string } {
  const dir = workDir();
  return { dir, path: writeConfig(dir, { agentKey: 'doctor-test', store: join(dir, 'ratri.db'), ...fields }) };
}

function doctor(path: string, extra: string[] = [], env: Record<string, string> = {}) {
  return runCli(['doctor', '--mcp', '--mcp-config', path, ...extra], '', env);
}

interface Check {
  id: string;
  title: string;
  ok: boolean;
  level: string;
  detail: string;
  fix: string | null;
  server: string | null;
  data?: Record<string, unknown>;
}

function parseReport(stdout: string): { ok: boolean; checks: Check[] } {
  return JSON.parse(stdout) as { ok: boolean; checks: Check[] };
}

/** The line of the check with this title. */
function line(stdout: string, title: string): string {
  const found = stdout.split('\n').find((l) => l.includes(` ${title}:`));
  if (!found) throw new Error(`no "${title}" line in:\n${stdout}`);
  return found;
}

describe('ratri doctor --mcp', () => {
  it('warns when a call could be held longer than hosts wait (approvalTimeoutMs over 60 s), and not at the default', async () => {
    const rules = { rules: [{ id: 'ask', tool: 'delete_file', decision: 'require_approval' }] };
    const long = config({ serverName: 'fs', mode: 'enforce', upstream: toolsUpstream, guardrails: rules, approvalTimeoutMs: 300_000 });
    const report = parseReport((await doctor(long.path, ['--json'])).stdout);
    const check = report.checks.find((c) => c.id === 'config');
    expect(check?.level).toBe('warn');
    expect(check?.detail).toContain('approvalTimeoutMs 300000 is longer than hosts wait');
    expect(check?.fix).toContain('"approvalTimeoutMs" to 50000');
    const byDefault = config({ serverName: 'fs', mode: 'enforce', upstream: toolsUpstream, guardrails: rules });
    expect(parseReport((await doctor(byDefault.path, ['--json'])).stdout).checks.find((c) => c.id === 'config')?.level).toBe('pass');
  });

  it('passes every check for a working setup, shows the tools and their decisions, and prints JSON with --json', async () => {
    const { path } = config({
      serverName: 'files',
      mode: 'enforce',
      upstream: toolsUpstream,
      guardrails: {
        rules: [
          { id: 'no-delete', tool: 'delete_file', decision: 'block' },
          { id: 'etc', tool: '*', args: { path: { regex: '^/etc/' } }, decision: 'block' },
        ],
      },
    });
    const text = await doctor(path);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    for (const title of [
      'config valid',
      'upstream command starts',
      'MCP initialize handshake',
      'tools/list',
      'rule decisions',
      'control plane',
      'host config snippet',
    ]) {
      expect(line(text.stdout, title)).toMatch(/^✓ /);
    }
    expect(text.stdout).not.toContain('✗');
    expect(line(text.stdout, 'MCP initialize handshake')).toContain('tools-server 1.0.0, protocol 2025-06-18');
    expect(line(text.stdout, 'tools/list')).toContain('2 tools');
    expect(text.stdout).toMatch(/read_file\s+allow\s+-\s+block \(etc, by arguments\)/);
    expect(text.stdout).toMatch(/delete_file\s+block\s+no-delete/);
    // The form ratri init writes: absolute node and CLI file, so any PATH and working directory work.
    expect(text.stdout).toContain(`"command": ${JSON.stringify(process.execPath)},`);
    expect(text.stdout).toContain(`"args": [${JSON.stringify(cliPath)}, "mcp", "proxy", "--config", ${JSON.stringify(path)}]`);
    expect(text.stdout).toContain('All 7 checks passed.');

    const json = await doctor(path, ['--json']);
    expect(json.code).toBe(0);
    const report = parseReport(json.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(['config', 'upstream', 'initialize', 'tools', 'rules', 'control-plane', 'host-config']);
    for (const c of report.checks) expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'title', 'ok', 'level', 'detail', 'fix']));
    expect(report.checks.every((c) => c.ok && c.level === 'pass' && c.fix === null)).toBe(true);
    const decisions = (report.checks[4]!.data as { decisions: Array<{ tool: string; decision: string; ruleId: string | null }> }).decisions;
    expect(decisions.map((d) => [d.tool, d.decision, d.ruleId])).toEqual([
      ['read_file', 'allow', null],
      ['delete_file', 'block', 'no-delete'],
    ]);
    expect(report.checks[6]!.data).toEqual({
      mcpServers: { files: { command: process.execPath, args: [cliPath, 'mcp', 'proxy', '--config', path] } },
    });
    // The upstream it started is gone.
    expect(isAlive(report.checks[1]!.data!.pid as number)).toBe(false);
  });

  it('passes against the real @modelcontextprotocol/server-everything', async () => {
    const { path } = config({
      serverName: 'everything',
      mode: 'enforce',
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
      guardrails: { rules: [{ id: 'no-env-dump', tool: 'get-env', decision: 'block' }] },
    });
    const result = await doctor(path, ['--json']);
    const report = parseReport(result.stdout);
    expect(result.code, result.stdout).toBe(0);
    expect(report.ok).toBe(true);
    const init = report.checks.find((c) => c.id === 'initialize')!;
    expect(init.level).toBe('pass');
    expect(init.data!.protocolVersion).toBe('2025-06-18');
    expect(init.data!.capabilities).toHaveProperty('tools');
    const names = report.checks.find((c) => c.id === 'tools')!.data!.names as string[];
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-env', 'get-sum']));
    const decisions = (report.checks.find((c) => c.id === 'rules')!.data as { decisions: Array<{ tool: string; decision: string }> })
      .decisions;
    expect(decisions.find((d) => d.tool === 'get-env')!.decision).toBe('block');
    expect(decisions.find((d) => d.tool === 'echo')!.decision).toBe('allow');
  });

  it('counts a rule on arguments only for the tools whose inputSchema takes them, and warns about one no tool can match (real server-filesystem)', async () => {
    const { path } = config({
      serverName: 'fs',
      mode: 'enforce',
      upstream: { command: process.execPath, args: [filesystemServer, workDir()] },
      guardrails: {
        rules: [
          { id: 'no-etc', tool: '*', args: { path: { under: '/etc' } }, decision: 'block' },
          { id: 'no-etc-many', tool: 'read_multiple_files', args: { 'paths.*': { under: '/etc' } }, decision: 'block' },
          { id: 'typo', tool: 'read_text_file', args: { paht: { under: '/etc' } }, decision: 'block' },
          { id: 'no-token', tool: 'move_file', args: { token: { exists: false } }, decision: 'warn' },
        ],
      },
    });
    const result = await doctor(path, ['--json']);
    expect(result.code, result.stdout).toBe(0);
    const rules = parseReport(result.stdout).checks.find((c) => c.id === 'rules')!;
    expect(rules.level).toBe('warn');
    expect(rules.fix).toBe('check the "args" of the rules named below: a misspelt name leaves its tool unguarded');
    const data = rules.data as {
      decisions: Array<{ tool: string; decision: string; otherwise: Array<{ ruleId: string }> }>;
      notes: string[];
    };
    const otherwise = Object.fromEntries(data.decisions.map((d) => [d.tool, d.otherwise.map((o) => o.ruleId)]));
    expect(otherwise.read_text_file).toEqual(['no-etc']);
    expect(otherwise.read_multiple_files).toEqual(['no-etc-many']);
    expect(otherwise.list_allowed_directories).toEqual([]);
    expect(data.decisions.find((d) => d.tool === 'move_file')).toMatchObject({ decision: 'warn', otherwise: [] });
    expect(data.notes).toEqual([
      'rule "typo" can never match: no tool it applies to takes "paht" (their inputSchemas declare: path, tail, head)',
    ]);

    const text = await doctor(path);
    expect(line(text.stdout, 'rule decisions')).toMatch(/^! /);
    expect(text.stdout).toMatch(/list_allowed_directories\s+allow\s+-\s*\n/);
    expect(text.stdout).toContain('rule "typo" can never match');
  });

  it('lists every config problem with its JSON path and exits 1', async () => {
    const { path } = config({ mode: 'enforse', upstream: { comand: 'node' }, guardrails: { rules: [{ id: 'a', decision: 'nope' }] } });
    const result = await doctor(path);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'config valid')).toMatch(/^✗ .*4 problems/);
    expect(result.stdout).toContain('    mode: must be one of "monitor", "enforce"');
    expect(result.stdout).toContain('    upstream.command: is required');
    expect(result.stdout).toContain('    upstream.comand: unknown field');
    expect(result.stdout).toContain('    guardrails.rules[0].decision: must be one of');
    expect(result.stdout).toMatch(/fix: .*docs\/config\.md/);
    expect(result.stdout).not.toContain('upstream command starts');
  });

  it('says when the upstream command does not exist, with the fix', async () => {
    const { path } = config({ upstream: { command: 'ratri-no-such-command-xyz' } });
    const result = await doctor(path);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'upstream command starts')).toMatch(/^✗ .*"ratri-no-such-command-xyz": not found/);
    expect(result.stdout).toMatch(/fix: check upstream\.command/);
    expect(line(result.stdout, 'MCP initialize handshake')).toMatch(/^- .*not run/);
    expect(line(result.stdout, 'control plane')).toMatch(/^✓ /); // independent of the upstream
    expect(result.stdout).toContain('1 check failed');
  });

  it('times out an upstream that never answers initialize, and leaves no process behind', async () => {
    const dir = workDir();
    const pidFile = join(dir, 'upstream.pid');
    const script = "require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)";
    const path = writeConfig(dir, {
      agentKey: 'doctor-test',
      store: join(dir, 'ratri.db'),
      upstream: { command: process.execPath, args: ['-e', script, pidFile] },
    });
    const started = Date.now();
    const result = await doctor(path, ['--timeout', '1000']);
    const took = Date.now() - started;
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'MCP initialize handshake')).toMatch(/^✗ .*no answer to initialize within 1000 ms/);
    expect(result.stdout).toMatch(/fix: check that upstream\.command starts an MCP server on stdio/);
    expect(line(result.stdout, 'tools/list')).toMatch(/^- /);
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(9000); // 1 s timeout + at most 4 s to stop it, not 10 s of default timeout
    expect(existsSync(pidFile)).toBe(true);
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('reports an upstream that exits before answering, with the end of its stderr', async () => {
    const { path } = config({ upstream: { command: process.execPath, args: ['/nonexistent/server.js'] } });
    const result = await doctor(path, ['--json']);
    expect(result.code).toBe(1);
    const init = parseReport(result.stdout).checks.find((c) => c.id === 'initialize')!;
    expect(init.level).toBe('fail');
    expect(init.detail).toMatch(/exited with code 1 before answering initialize/);
    expect((init as unknown as { lines: string[] }).lines.join('\n')).toContain('Cannot find module');
  });

  it('fails the control plane check for a store that cannot be used', async () => {
    const { path } = config({ upstream: toolsUpstream, store: '/proc/self/nope/ratri.db' });
    const result = await doctor(path);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'control plane')).toMatch(/^✗ .*cannot open the store \/proc\/self\/nope\/ratri\.db/);
    expect(result.stdout).toMatch(/fix: set "store" to a file in a folder you can write/);
    expect(line(result.stdout, 'tools/list')).toMatch(/^✓ /);
  });

  it('fails the control plane check for a remote API on a closed port, with a fix', async () => {
    const port = await closedPort();
    const { path } = config({ upstream: toolsUpstream, api: { url: `http://127.0.0.1:${port}` } });
    const result = await doctor(path, [], { RATRI_API_KEY: '' });
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'control plane')).toMatch(
      new RegExp(`^✗ control plane: cannot reach the control plane at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
    );
    expect(result.stdout).toMatch(/fix: start the control plane \(ratri serve\) or correct api\.url/);
  });

  /** Starts `ratri serve` on a free loopback port (its key from DOCTOR_KEY when `key` is given) and returns its URL. */
  function startServe(key?: string): Promise<string> {
    const env = { ...process.env, RATRI_HOME: workDir(), ...(key === undefined ? {} : { DOCTOR_KEY: key }) };
    if (key === undefined) delete env.DOCTOR_KEY;
    const serve = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '--key-env', 'DOCTOR_KEY'], { env });
    children.push(serve);
    return new Promise<string>((resolve, reject) => {
      let said = '';
      const timer = setTimeout(() => reject(new Error(`ratri serve did not start: ${said}`)), 10_000);
      const read = (c: Buffer): void => {
        said += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(said);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      serve.stdout.on('data', read);
      serve.stderr.on('data', read);
    });
  }

  it('fails the control plane check when the key variable is unset (the proxy would not start), unless "keyEnv": null', async () => {
    const url = await startServe(); // a loopback ratri serve without a key accepts any request
    const unset = await doctor(config({ upstream: toolsUpstream, api: { url } }).path, [], { RATRI_API_KEY: '' });
    expect(unset.code).toBe(1);
    expect(line(unset.stdout, 'control plane')).toMatch(
      /^✗ .*is up, but \$RATRI_API_KEY is not set: ratri mcp proxy refuses to start without it/,
    );
    expect(unset.stdout).toMatch(/fix: set \$RATRI_API_KEY to the API's key, or set "api.keyEnv": null if this API takes no key/);
    const none = await doctor(config({ upstream: toolsUpstream, api: { url, keyEnv: null } }).path, [], { RATRI_API_KEY: '' });
    expect(none.code, none.stdout).toBe(0);
    expect(line(none.stdout, 'control plane')).toMatch(/accepted a request without a key; no key \("api.keyEnv": null\)/);
  });

  it('accepts a running ratri serve with the right key, and names the key variable when it is wrong', async () => {
    const url = await startServe('right-key');
    const { path } = config({ upstream: toolsUpstream, api: { url, keyEnv: 'DOCTOR_KEY' } });
    const good = await doctor(path, [], { DOCTOR_KEY: 'right-key' });
    expect(good.code, good.stdout).toBe(0);
    expect(line(good.stdout, 'control plane')).toMatch(/^✓ .*is up and accepts the key; key from \$DOCTOR_KEY \(set\)/);
    expect(good.stdout).not.toContain('right-key');
    const bad = await doctor(path, [], { DOCTOR_KEY: 'wrong-key' });
    expect(bad.code).toBe(1);
    expect(line(bad.stdout, 'control plane')).toMatch(/^✗ .*refused the key \(401\)/);
    expect(bad.stdout).toMatch(/fix: \$DOCTOR_KEY does not hold a key the API accepts/);
  });

  it('checks every entry of a multi-server config when --server is not given, and only one with --server', async () => {
    const { path } = config({
      servers: {
        alpha: { upstream: toolsUpstream },
        beta: { upstream: { command: 'ratri-no-such-command-xyz' } },
      },
    });
    const all = await doctor(path, ['--json']);
    expect(all.code).toBe(1);
    const checks = parseReport(all.stdout).checks;
    expect(checks.filter((c) => c.id === 'upstream').map((c) => [c.server, c.level])).toEqual([
      ['alpha', 'pass'],
      ['beta', 'fail'],
    ]);
    const one = await doctor(path, ['--server', 'alpha']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('server "alpha"');
    expect(one.stdout).not.toContain('server "beta"');
    expect(one.stdout).toContain('"--server", "alpha"');
    const unknown = await doctor(path, ['--server', 'gamma']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('--server: "gamma" is not in "servers"; the names are: alpha, beta');
  });

  it('exits 2 for a wrong command line', async () => {
    const noMcp = await runCli(['doctor', '--mcp-config', 'x.json']);
    expect(noMcp.code).toBe(2);
    expect(noMcp.stderr).toContain('ratri doctor checks MCP setups: use --mcp --mcp-config FILE');
    const noConfig = await runCli(['doctor', '--mcp']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('--mcp-config FILE is required');
    const badTimeout = await runCli(['doctor', '--mcp', '--mcp-config', 'x.json', '--timeout', '0']);
    expect(badTimeout.code).toBe(2);
  });
});

/** A port nothing listens on: bound, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
