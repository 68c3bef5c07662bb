/** The one line a proxy started from a config says first on stderr: mode, rules, where events go (docs/config.md). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, fixtureServer, runCli, writeConfig } from '../helpers/cli.js';

const { dir } = cleanUpAfterEach('ratri-startup-line-');

describe('what the proxy says at start', () => {
  it('names the mode, the number of rules, the store and the JSONL file', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'laptop',
      serverName: 'fs',
      mode: 'enforce',
      store: 'ratri.db',
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      guardrails: { rules: [{ id: 'a', tool: 'x', decision: 'block' }, { template: 'block_destructive_tools' }] },
      telemetry: { jsonl: 'events.jsonl' },
    });
    const run = await runCli(['mcp', 'proxy', '--config', config], '');
    expect(run.stderr.split('\n')[0]).toBe(
      `ratri: enforce mode for server "fs" (agent "laptop"): applying 2 rules; events to the store ${join(d, 'ratri.db')} and ${join(d, 'events.jsonl')}`,
    );
  });

  it('says when a remote control plane decides, and that monitor mode only records', async () => {
    const d = dir();
    const config = writeConfig(d, {
      agentKey: 'laptop',
      serverName: 'fs',
      store: 'queue.db',
      api: { url: 'http://127.0.0.1:9', keyEnv: 'STARTUP_TEST_KEY' },
      upstream: { command: process.execPath, args: [fixtureServer('tools-server.mjs')] },
      guardrails: { rules: [{ id: 'a', tool: 'x', decision: 'block' }] },
    });
    const run = await runCli(['mcp', 'proxy', '--config', config], '', { STARTUP_TEST_KEY: 'k' });
    expect(run.stderr.split('\n')[0]).toBe(
      `ratri: monitor mode for server "fs" (agent "laptop"): recording what would be decided by 1 rule; decisions and events by the control plane at http://127.0.0.1:9 (events wait in ${join(d, 'queue.db')} while it is away)`,
    );
  });
});
