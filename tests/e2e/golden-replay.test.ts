import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { everythingServer, root, runCli, tempDir, writeConfig } from '../helpers/cli.js';

const goldenDir = join(root, 'fixtures', 'golden');
const goldenFiles = readdirSync(goldenDir)
  .filter((f) => f.endsWith('.golden.jsonl'))
  .sort();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('golden sessions replay byte-exactly through the real proxy', () => {
  it('has at least 10 golden sessions', () => {
    expect(goldenFiles.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of goldenFiles) {
    const description = JSON.parse(readFileSync(join(goldenDir, file), 'utf8').split('\n')[0]!).description as string;
    it(`${file}: ${description}`, async () => {
      const result = await runCli(['replay', join(goldenDir, file)]);
      expect(result.stdout).toContain(`✓ ${join(goldenDir, file)}`);
      expect(result.code).toBe(0);
    });
  }
});

describe('ratri replay', () => {
  it('reports the first differing byte when the proxy writes something else', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const source = readFileSync(join(goldenDir, 'enforce-block.golden.jsonl'), 'utf8');
    const tampered = join(dir, 'tampered.golden.jsonl');
    // Change one expected byte in the first error the proxy must write to the host.
    const lines = source.split('\n');
    const target = lines.findIndex((l) => l.startsWith('{"to": "host"') && l.includes('Blocked by guardrail'));
    expect(target).toBeGreaterThan(0);
    lines[target] = lines[target]!.replace('Blocked by guardrail', 'Blocked by guardrails');
    writeFileSync(tampered, lines.join('\n'));
    const result = await runCli(['replay', tampered]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/frame to host differs: first difference at byte \d+/);
    expect(result.stdout).toContain('0 passed, 1 failed');
  });

  it('reports a session whose config the proxy refuses, at once, and goes on to the next file', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const refused = join(dir, 'refused.golden.jsonl');
    const header = {
      golden: 1,
      description: 'a config the proxy refuses',
      config: { agentKey: 'g', mode: 'enforce', guardrails: { rules: [{ id: 'x', args: { p: { regex: '(?i)x' } }, decision: 'block' }] } },
    };
    writeFileSync(refused, `${JSON.stringify(header)}\n${JSON.stringify({ from: 'host', text: '{}' })}\n`);
    const started = Date.now();
    const result = await runCli(['replay', refused, join(goldenDir, 'enforce-block.golden.jsonl')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the proxy exited (code 2) before its upstream connected');
    expect(result.stdout).toContain('inline flags "(?i)"');
    expect(result.stdout).toContain('1 passed, 1 failed');
    expect(Date.now() - started).toBeLessThan(8000); // not two 10 s connection timeouts
  });

  it('replays a session recorded with --record against a real upstream', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const recording = join(dir, 'session.golden.jsonl');
    const config = writeConfig(dir, {
      agentKey: 'rec',
      serverName: 'everything',
      mode: 'enforce',
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
      guardrails: { rules: [{ id: 'no-env', tool: 'get-env', decision: 'block' }] },
    });
    const frames = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'recorded' } } },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get-env', arguments: {} } },
    ];
    // Send frames one at a time so the recording has a deterministic order.
    const { ProxyProcess } = await import('../helpers/cli.js');
    const proxy = new ProxyProcess(['--config', config, '--record', recording], { RATRI_SESSION_ID: 'golden' });
    proxy.send(frames[0]!);
    await proxy.response(1);
    proxy.send(frames[1]!);
    proxy.send(frames[2]!);
    await proxy.response(2);
    proxy.send(frames[3]!);
    expect((await proxy.response(3)).error).toMatchObject({ code: -32001 });
    proxy.child.stdin.end();
    await proxy.exited;
    const lines = readFileSync(recording, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ golden: 1, config: { mode: 'enforce', serverName: 'everything' } });
    expect(lines.filter((l) => l.from === 'host')).toHaveLength(4);
    // Upstream notifications that arrive at a random moment would make the order timing-dependent: keep the
    // recording's host/upstream frames, which the replay must reproduce byte for byte.
    const result = await runCli(['replay', recording]);
    expect(result.stdout).toContain('1 passed, 0 failed');
    expect(result.code).toBe(0);
  });
});
