/**
 * The HTTP front routes answers by the id's own text, as the interceptor matches them: requests `7`
 * and `7.0` on one session are two requests, and each POST gets its own answer — also from an
 * upstream that answers `7.0` as `7` (it re-serialises ids, as SDK servers do).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, fixtureServer, writeConfig } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-http-ids-');

describe('HTTP front: ids 7 and 7.0', () => {
  it('answers both POSTs, one answer each, though the upstream writes both ids as 7', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'ids',
      serverName: 'fs',
      mode: 'enforce',
      store: join(d, 'ratri.db'),
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
    });
    const child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0'], {
      env: { ...process.env, RATRI_HOME: d },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    try {
      const deadline = Date.now() + 15_000;
      while (!/127\.0\.0\.1:\d+\/mcp/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const url = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/mcp/.exec(stderr)?.[1]}/mcp`;
      const post = async (body: string, session?: string) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
        if (session) headers['mcp-session-id'] = session;
        const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(8000) });
        const answers = (await res.text()).split('\n').filter((l) => l.startsWith('data: {'));
        return { session: res.headers.get('mcp-session-id') ?? undefined, answers };
      };
      const init = await post(
        '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}',
      );
      const [seven, sevenPointZero] = await Promise.all([
        post('{"jsonrpc":"2.0","id":7,"method":"ping"}', init.session),
        post('{"jsonrpc":"2.0","id":7.0,"method":"ping"}', init.session),
      ]);
      expect(seven.answers).toHaveLength(1);
      expect(sevenPointZero.answers).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});
