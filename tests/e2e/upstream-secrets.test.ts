/**
 * The guarded server cannot read ratri's credentials: the real everything server's `get-env` tool
 * answers with its whole environment, over stdio and through the HTTP front, and the API key and the
 * front's token are not in it (unless `upstream.env` sets them on purpose). And a proxy whose API
 * key variable is unset refuses to start, naming the variable.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { cleanUpAfterEach, cliPath, everythingServer, ProxyProcess, runCli, writeConfig } from '../helpers/cli.js';
import { textOf } from '../helpers/sdk.js';

const { dir, track } = cleanUpAfterEach('ratri-secrets-');

const SECRETS = { RATRI_API_KEY: 'default-key-SECRET', MY_API_KEY: 'my-key-SECRET', FRONT_TOKEN: 'front-token-SECRET', UNRELATED: 'kept' };

function configFor(folder: string, extra: Record<string, unknown> = {}, upstreamEnv: Record<string, string> = {}): string {
  return writeConfig(folder, {
    agentKey: 'secrets',
    serverName: 'everything',
    mode: 'monitor',
    store: join(folder, 'ratri.db'),
    upstream: { command: process.execPath, args: [everythingServer, 'stdio'], env: { FROM_CONFIG: 'yes', ...upstreamEnv } },
    ...extra,
  });
}

/** The upstream's environment, as its get-env tool reports it through a stdio proxy. */
async function envOverStdio(config: string): Promise<Record<string, string>> {
  const proxy = track(new ProxyProcess(['--config', config], { ...SECRETS, RATRI_HOME: dir() }));
  proxy.send({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  await proxy.response(1);
  proxy.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  proxy.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
  const answer = await proxy.response(2);
  return JSON.parse(textOf(answer.result)) as Record<string, string>;
}

describe("the upstream's environment", () => {
  it('over stdio: RATRI_API_KEY is not passed on, other variables and upstream.env are', async () => {
    const env = await envOverStdio(configFor(dir()));
    expect(env.UNRELATED).toBe('kept');
    expect(env.FROM_CONFIG).toBe('yes');
    expect(env).not.toHaveProperty('RATRI_API_KEY');
    expect(JSON.stringify(env)).not.toContain('default-key-SECRET');
  });

  it('with "api": the variable api.keyEnv names is not passed on; a name upstream.env sets gets the config\'s value', async () => {
    const folder = dir();
    const config = configFor(folder, { api: { url: 'http://127.0.0.1:9', keyEnv: 'MY_API_KEY' } }, { RATRI_API_KEY: 'chosen-in-config' });
    const env = await envOverStdio(config);
    expect(env).not.toHaveProperty('MY_API_KEY');
    expect(JSON.stringify(env)).not.toContain('my-key-SECRET');
    expect(env.RATRI_API_KEY).toBe('chosen-in-config');
    expect(env.UNRELATED).toBe('kept');
  });

  it("through the HTTP front: neither the API key nor --auth-token-env's variable reaches the upstream", async () => {
    const folder = dir();
    const config = configFor(folder);
    const child = spawn(
      process.execPath,
      [cliPath, 'mcp', 'proxy', '--config', config, '--transport', 'http', '--port', '0', '--auth-token-env', 'FRONT_TOKEN'],
      {
        env: { ...process.env, ...SECRETS, RATRI_HOME: folder },
      },
    );
    const exited = new Promise((r) => child.on('close', r));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const deadline = Date.now() + 10_000;
      while (!/127\.0\.0\.1:\d+\/mcp/.test(stderr)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the HTTP front did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = new URL(`${/(http:\/\/127\.0\.0\.1:\d+)\/mcp/.exec(stderr)![1]}/mcp`);
      const client = new Client({ name: 'secrets-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${SECRETS.FRONT_TOKEN}` } } }),
      );
      const env = JSON.parse(textOf(await client.callTool({ name: 'get-env', arguments: {} }))) as Record<string, string>;
      await client.close();
      expect(env.UNRELATED).toBe('kept');
      expect(env).not.toHaveProperty('FRONT_TOKEN');
      expect(env).not.toHaveProperty('RATRI_API_KEY');
      expect(JSON.stringify(env)).not.toMatch(/front-token-SECRET|default-key-SECRET/);
      expect(env.MY_API_KEY).toBe('my-key-SECRET'); // not a credential of this config: passed on as any other
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('a remote control plane without its key', () => {
  const remote = (keyEnv?: string | null): string =>
    configFor(dir(), { api: { url: 'http://127.0.0.1:9', ...(keyEnv === undefined ? {} : { keyEnv }) } });
  const frames = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`;

  it('refuses to start (exit 2) when the key variable is unset or empty, naming the variable and the fix', async () => {
    const unset = await runCli(['mcp', 'proxy', '--config', remote('MY_API_KEY')], frames, { MY_API_KEY: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('api.keyEnv: the environment variable MY_API_KEY is empty');
    expect(unset.stderr).toContain('"keyEnv": null');
    expect(unset.stdout).toBe('');

    const defaultName = await runCli(['mcp', 'proxy', '--config', remote()], frames, { RATRI_API_KEY: '' });
    expect(defaultName.code).toBe(2);
    expect(defaultName.stderr).toContain('the environment variable RATRI_API_KEY is empty');

    const http = await runCli(['mcp', 'proxy', '--config', remote('NOT_SET_ANYWHERE_XYZ'), '--transport', 'http', '--port', '0'], '');
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('the environment variable NOT_SET_ANYWHERE_XYZ is not set');
  });

  it('starts when the config says the API takes no key ("keyEnv": null)', async () => {
    const result = await runCli(['mcp', 'proxy', '--config', remote(null)], frames, { RATRI_API_KEY: '' });
    expect(result.stderr).not.toContain('api.keyEnv');
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ id: 1, result: {} });
  });
});
