// The no-config start, `ratri mcp proxy -- COMMAND ARGS…` (docs/config.md#no-config-start): the
// official SDK client through it to server-everything, monitor mode, agent "local", the default
// store under RATRI_HOME, and the stderr line that says so.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, everythingServer, runCli } from '../helpers/cli.js';
import { textOf } from '../helpers/sdk.js';

const { dir } = cleanUpAfterEach('ratri-no-config-');

describe('ratri mcp proxy -- COMMAND ARGS…', () => {
  it('proxies the command in monitor mode as agent "local" into the default store, and says so on stderr', async () => {
    const home = dir();
    const env = { ...(process.env as Record<string, string>), RATRI_HOME: home };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp', 'proxy', '--', process.execPath, everythingServer],
      env,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const client = new Client({ name: 'no-config-e2e', version: '1' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toContain('hi');
    } finally {
      await client.close();
    }
    const store = join(home, 'ratri.db');
    expect(stderr).toContain(
      `ratri: no config: proxying "${process.execPath} ${everythingServer}" in monitor mode as agent "local", server "node", no rules, store ${store}`,
    );
    const events = await runCli(['events', '--json', '--type', 'mcp.session.started'], '', { RATRI_HOME: home });
    const started = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { agentKey: string; serverName: string; data: { mode: string } });
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ agentKey: 'local', serverName: 'node', data: { mode: 'monitor' } });
  });

  it('refuses --config together with a command, and neither, with exit 2 naming the fix', async () => {
    const both = await runCli(['mcp', 'proxy', '--config', 'ratri.mcp.json', '--', 'node']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--config: give a config file or a command after "--", not both');
    const neither = await runCli(['mcp', 'proxy']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain(
      '--config: required: the ratri.mcp.json to run, or try ratri without one: ratri mcp proxy -- COMMAND ARGS…',
    );
    const server = await runCli(['mcp', 'proxy', '--server', 'x', '--', 'node']);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain('--server: picks an entry of a config\'s "servers"; there is no config here');
  });
});
