/**
 * The official MCP SDK client talking to @modelcontextprotocol/server-everything through the built
 * `ratri mcp proxy` CLI: everything a real host does must work exactly as it does without the proxy,
 * and in enforce mode a blocked tool is refused with -32001.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CreateMessageRequest, CreateMessageRequestSchema, type Progress, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { cliPath, everythingServer, isAlive, tempDir, writeConfig } from '../helpers/cli.js';
import { callError, textOf } from '../helpers/sdk.js';

const SERVER_NAME = 'everything';
const BLOCK_GET_ENV = { id: 'no-env-dump', tool: 'get-env', decision: 'block', reason: 'environment variables may hold secrets' };

interface Connection {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

const dirs: string[] = [];
const connections: Connection[] = [];

afterEach(async () => {
  for (const c of connections.splice(0)) {
    const pid = c.transport.pid;
    await c.client.close();
    if (pid !== null) expect(isAlive(pid)).toBe(false);
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const dir = tempDir('ratri-sdk-everything-');
  dirs.push(dir);
  return dir;
}

/** A client declaring `sampling`, answering sampling/createMessage with `onSampling`. */
function newClient(onSampling?: (request: CreateMessageRequest) => string): Client {
  const client = new Client({ name: 'ratri-e2e', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    model: 'e2e-test-model',
    role: 'assistant',
    content: { type: 'text', text: onSampling ? onSampling(request) : 'no sampling expected' },
  }));
  return client;
}

async function connect(command: string, args: string[], onSampling?: (request: CreateMessageRequest) => string): Promise<Connection> {
  const transport = new StdioClientTransport({ command, args, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = newClient(onSampling);
  const connection = { client, transport, stderr: () => stderr };
  connections.push(connection);
  await client.connect(transport);
  return connection;
}

/** Connects through `ratri mcp proxy` with a config for the everything server. */
function connectViaProxy(
  config: Record<string, unknown> = {},
  onSampling?: (request: CreateMessageRequest) => string,
): Promise<Connection> {
  const dir = newDir();
  // A store of the test's own: the SDK client passes the proxy only HOME and PATH, so without one the
  // proxy would use (and could fail on) the user's ~/.ratri store.
  const file = writeConfig(dir, {
    agentKey: 'sdk-e2e',
    serverName: SERVER_NAME,
    store: join(dir, 'ratri.db'),
    upstream: { command: process.execPath, args: [everythingServer, 'stdio'] },
    ...config,
  });
  return connect(process.execPath, [cliPath, 'mcp', 'proxy', '--config', file], onSampling);
}

function connectDirect(): Promise<Connection> {
  return connect(process.execPath, [everythingServer, 'stdio']);
}

async function findTool(client: Client, name: string): Promise<Tool> {
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === name);
  expect(tool, `tool ${name} is listed`).toBeDefined();
  return tool as Tool;
}

/** The input schema's property names, to build arguments the server really accepts. */
function argumentNames(tool: Tool): string[] {
  return Object.keys(tool.inputSchema.properties ?? {});
}

interface LoggedEvent {
  type: string;
  serverName: string;
  data: Record<string, unknown>;
}

function readEvents(path: string): LoggedEvent[] {
  expect(existsSync(path), `telemetry file ${path} exists`).toBe(true);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LoggedEvent);
}

describe('SDK client → ratri → server-everything', () => {
  it('lists exactly the tools the server lists when connected directly', async () => {
    const [proxied, direct] = await Promise.all([connectViaProxy(), connectDirect()]);
    const [viaProxy, withoutProxy] = await Promise.all([proxied.client.listTools(), direct.client.listTools()]);

    expect(viaProxy.tools.length).toBeGreaterThan(0);
    expect(viaProxy.tools.map((t) => t.name)).toContain('echo');
    expect(viaProxy).toEqual(withoutProxy);
    expect(proxied.client.getServerVersion()).toEqual(direct.client.getServerVersion());
    expect(proxied.client.getServerCapabilities()).toEqual(direct.client.getServerCapabilities());
  });

  it('calls echo and returns the server answer unchanged', async () => {
    const { client } = await connectViaProxy();
    const message = `héllo ✓ ${randomUUID()}`;

    const result = await client.callTool({ name: 'echo', arguments: { message } });

    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(`Echo: ${message}`);
  });

  it('relays a sampling/createMessage round trip started by the server during a tool call', async () => {
    const seen: CreateMessageRequest[] = [];
    const reply = `sampled-${randomUUID()}`;
    const { client } = await connectViaProxy({}, (request) => {
      seen.push(request);
      return reply;
    });
    const tool = await findTool(client, 'trigger-sampling-request');
    expect(argumentNames(tool)).toEqual(expect.arrayContaining(['prompt', 'maxTokens']));
    const prompt = `prompt-${randomUUID()}`;

    const result = await client.callTool({ name: tool.name, arguments: { prompt, maxTokens: 7 } });

    expect(seen).toHaveLength(1);
    const params = seen[0]!.params;
    expect(params.maxTokens).toBe(7);
    expect(JSON.stringify(params.messages)).toContain(prompt);
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain(reply);
    expect(textOf(result)).toContain('e2e-test-model');
  });

  it('relays progress notifications of a long-running tool call', async () => {
    const { client } = await connectViaProxy();
    const tool = await findTool(client, 'trigger-long-running-operation');
    expect(argumentNames(tool)).toEqual(expect.arrayContaining(['duration', 'steps']));
    const steps = 3;
    const progress: Progress[] = [];

    const result = await client.callTool({ name: tool.name, arguments: { duration: 0.3, steps } }, undefined, {
      onprogress: (p) => progress.push(p),
    });

    expect(textOf(result)).toContain(`Steps: ${steps}`);
    // The last notification may race the result inside the SDK itself, so at least steps - 1 arrive.
    expect(progress.length).toBeGreaterThanOrEqual(steps - 1);
    progress.forEach((p, i) => expect(p).toEqual({ progress: i + 1, total: steps }));
  });

  it('in enforce mode, refuses a tool blocked by a rule with -32001 and the rule id, and still serves other tools', async () => {
    const { client } = await connectViaProxy({ mode: 'enforce', guardrails: { rules: [BLOCK_GET_ENV] } });

    const error = await callError(client.callTool({ name: 'get-env', arguments: {} }));

    expect(error.code).toBe(-32001);
    expect(error.data).toMatchObject({
      decision: 'block',
      ruleId: BLOCK_GET_ENV.id,
      reason: BLOCK_GET_ENV.reason,
      tool: `${SERVER_NAME}.get-env`,
    });
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'still allowed' } });
    expect(textOf(echo)).toBe('Echo: still allowed');
  });

  it('in monitor mode, lets the same blocked tool through to the server', async () => {
    const marker = `marker-${randomUUID()}`;
    const { client } = await connectViaProxy({
      mode: 'monitor',
      guardrails: { rules: [BLOCK_GET_ENV] },
      upstream: { command: process.execPath, args: [everythingServer, 'stdio'], env: { RATRI_E2E_MARKER: marker } },
    });

    const result = await client.callTool({ name: 'get-env', arguments: {} });

    expect(result.isError).toBeFalsy();
    expect((JSON.parse(textOf(result)) as Record<string, string>).RATRI_E2E_MARKER).toBe(marker);
  });

  it('writes started/completed events for echo to the telemetry JSONL file, with redactKeys values replaced', async () => {
    const dir = newDir();
    const eventsFile = join(dir, 'events.jsonl');
    const secret = `top-secret-${randomUUID()}`;
    const connection = await connectViaProxy({ telemetry: { jsonl: eventsFile }, redactKeys: ['message'] });

    const result = await connection.client.callTool({ name: 'echo', arguments: { message: secret } });
    expect(textOf(result)).toBe(`Echo: ${secret}`); // the upstream got the real value
    await connection.client.close(); // the proxy flushes telemetry before it exits

    const raw = readFileSync(eventsFile, 'utf8');
    expect(raw).not.toContain(secret);
    const events = readEvents(eventsFile);
    const started = events.find((e) => e.type === 'agent.tool.started' && e.data.tool === `${SERVER_NAME}.echo`);
    const completed = events.find((e) => e.type === 'agent.tool.completed' && e.data.tool === `${SERVER_NAME}.echo`);
    expect(started, `agent.tool.started for echo in:\n${raw}`).toBeDefined();
    expect(completed, `agent.tool.completed for echo in:\n${raw}`).toBeDefined();
    expect(started!.serverName).toBe(SERVER_NAME);
    expect(started!.data.arguments).toEqual({ message: '[REDACTED]' });
    expect(completed!.data.requestId).toBe(started!.data.requestId);
    // The session was recorded from start to end, and the upstream it names is gone.
    const session = events.find((e) => e.type === 'mcp.session.started');
    expect(events.some((e) => e.type === 'mcp.session.ended')).toBe(true);
    const upstreamPid = (session?.data.upstream as { pid?: number } | undefined)?.pid;
    expect(typeof upstreamPid).toBe('number');
    expect(isAlive(upstreamPid!)).toBe(false);
  });
});
