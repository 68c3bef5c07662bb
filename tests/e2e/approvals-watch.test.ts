/**
 * Held calls are noticed: `ratri approvals watch` prints each new pending approval once (with the
 * bell when asked), and `ratri approvals approve --last` resolves the newest one. The real CLI, a
 * real proxy holding a real call, one SQLite store.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, newStore, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';

const { dir, track } = cleanUpAfterEach('ratri-approvals-watch-');

function holdingProxy(): { store: string; proxy: ProxyProcess } {
  const d = dir();
  const store = newStore(d);
  const config = writeConfig(d, {
    agentKey: 'watch-agent',
    serverName: 'fs',
    mode: 'enforce',
    store,
    upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    guardrails: { rules: [{ id: 'ask-deletes', tool: 'delete_file', decision: 'require_approval' }] },
  });
  return { store, proxy: track(new ProxyProcess(['--config', config])) };
}

const call = (id: number, path: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'delete_file', arguments: { path } },
});

describe('noticing held calls', () => {
  it('watch prints each new held call once, with the bell; approve --last resolves the newest', async () => {
    const { store, proxy } = holdingProxy();
    const watch = spawn(process.execPath, [cliPath, 'approvals', 'watch', '--store', store, '--bell', '--interval-ms', '100']);
    let out = '';
    watch.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const closed = new Promise((r) => watch.on('close', r));
    try {
      const lineFor = async (n: number): Promise<string[]> => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const lines = out.split('\n').filter((l) => l.includes('apr_'));
          if (lines.length >= n) return lines;
          if (Date.now() > deadline) throw new Error(`watch printed:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      proxy.send(call(1, '/tmp/one'));
      const [first] = await lineFor(1);
      expect(first!.startsWith('\u0007apr_')).toBe(true); // the bell first
      expect(first).toMatch(/apr_[0-9a-f]{10} {2}fs\.delete_file \(rule ask-deletes\) waits since /);
      proxy.send(call(2, '/tmp/two'));
      const lines = await lineFor(2);
      expect(lines).toHaveLength(2); // the first call is not printed again
      const newest = /apr_[0-9a-f]{10}/.exec(lines[1]!)![0];

      const approved = await runCli(['approvals', 'approve', '--last', '--store', store]);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain(`approved ${newest}`);
      expect((await proxy.response(2)).result).toBeDefined(); // the newest call was forwarded and answered
      const rejected = await runCli(['approvals', 'reject', '--last', '--store', store]);
      expect(rejected.code, rejected.stderr).toBe(0);
      expect((await proxy.response(1)).error).toMatchObject({ code: -32002 });
      const none = await runCli(['approvals', 'approve', '--last', '--store', store]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no call is waiting for approval');
    } finally {
      watch.kill('SIGTERM');
      await closed;
    }
  });
});
