/**
 * The official MCP SDK client talking to @modelcontextprotocol/server-filesystem through the built
 * `ratri mcp proxy` CLI. Monitor mode never changes what happens on disk; enforce mode stops a
 * write before it reaches the server (-32001), or holds it for approval until it times out (-32002),
 * and an `under` rule stops a `..` traversal the server itself would have served.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliPath, filesystemServer, isAlive, tempDir, writeConfig } from '../helpers/cli.js';
import { callError, textOf } from '../helpers/sdk.js';

const SERVER_NAME = 'filesystem';

let configDir: string;
/** The one directory the filesystem server may touch (real path: the server resolves symlinks). */
let allowedDir: string;
const clients: Array<{ client: Client; transport: StdioClientTransport }> = [];

beforeEach(() => {
  configDir = tempDir('ratri-sdk-fs-config-');
  allowedDir = realpathSync(tempDir('ratri-sdk-fs-allowed-'));
});

afterEach(async () => {
  for (const { client, transport } of clients.splice(0)) {
    const pid = transport.pid;
    await client.close();
    if (pid !== null) expect(isAlive(pid)).toBe(false);
  }
  rmSync(configDir, { recursive: true, force: true });
  rmSync(allowedDir, { recursive: true, force: true });
});

async function connectViaProxy(config: Record<string, unknown>): Promise<Client> {
  // A store of the test's own (the SDK client passes the proxy only HOME and PATH, not RATRI_HOME).
  const file = writeConfig(configDir, {
    agentKey: 'sdk-fs-e2e',
    serverName: SERVER_NAME,
    store: join(configDir, 'ratri.db'),
    upstream: { command: process.execPath, args: [filesystemServer, allowedDir] },
    ...config,
  });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cliPath, 'mcp', 'proxy', '--config', file],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'ratri-fs-e2e', version: '1.0.0' });
  clients.push({ client, transport });
  await client.connect(transport);
  return client;
}

/** A file in the allowed directory with known content and an mtime safely in the past. */
function existingFile(): { path: string; content: string; snapshot: () => { content: string; mtimeMs: number; size: number } } {
  const path = join(allowedDir, 'keep.txt');
  const content = `original ✓ ${randomUUID()}\n`;
  writeFileSync(path, content);
  const anHourAgo = new Date(Date.now() - 3_600_000);
  utimesSync(path, anHourAgo, anHourAgo); // any write, even of the same bytes, would move mtime to now
  const snapshot = (): { content: string; mtimeMs: number; size: number } => {
    const stat = statSync(path);
    return { content: readFileSync(path, 'utf8'), mtimeMs: stat.mtimeMs, size: stat.size };
  };
  return { path, content, snapshot };
}

describe('SDK client → ratri → server-filesystem', () => {
  it('in monitor mode, passes write_file through and the file is written', async () => {
    const client = await connectViaProxy({
      mode: 'monitor',
      guardrails: { rules: [{ id: 'no-writes', tool: 'write_file', decision: 'block' }] },
    });
    const path = join(allowedDir, 'written.txt');
    const content = `hello from the proxy ✓ ${randomUUID()}\n`;

    const result = await client.callTool({ name: 'write_file', arguments: { path, content } });

    expect(result.isError).toBeFalsy();
    expect(readFileSync(path, 'utf8')).toBe(content);
    const read = await client.callTool({ name: 'read_file', arguments: { path } });
    expect(textOf(read)).toBe(content);
  });

  it('in enforce mode, refuses write_file with -32001 and leaves the file untouched, while read_file still works', async () => {
    const client = await connectViaProxy({
      mode: 'enforce',
      guardrails: { rules: [{ id: 'no-writes', tool: 'write_file', decision: 'block', reason: 'read-only agent' }] },
    });
    const file = existingFile();
    const before = file.snapshot();

    const error = await callError(client.callTool({ name: 'write_file', arguments: { path: file.path, content: 'overwritten' } }));

    expect(error.code).toBe(-32001);
    expect(error.data).toMatchObject({
      decision: 'block',
      ruleId: 'no-writes',
      reason: 'read-only agent',
      tool: `${SERVER_NAME}.write_file`,
    });
    const read = await client.callTool({ name: 'read_file', arguments: { path: file.path } });
    expect(read.isError).toBeFalsy();
    expect(textOf(read)).toBe(file.content);
    expect(file.snapshot()).toEqual(before);
  });

  it('in enforce mode, refuses write_file by an argument glob on its path, and allows writes elsewhere', async () => {
    const protectedDir = join(allowedDir, 'protected');
    const client = await connectViaProxy({
      mode: 'enforce',
      guardrails: {
        rules: [{ id: 'protected-dir', tool: 'filesystem.write_*', args: { path: { glob: `${protectedDir}/*` } }, decision: 'block' }],
      },
    });
    const file = existingFile();
    const blockedPath = join(protectedDir, 'secret.txt');

    const error = await callError(client.callTool({ name: 'write_file', arguments: { path: blockedPath, content: 'nope' } }));
    expect(error.code).toBe(-32001);
    expect((error.data as { ruleId?: unknown }).ruleId).toBe('protected-dir');
    expect(() => statSync(blockedPath)).toThrow();

    const allowed = await client.callTool({ name: 'write_file', arguments: { path: file.path, content: 'replaced' } });
    expect(allowed.isError).toBeFalsy();
    expect(readFileSync(file.path, 'utf8')).toBe('replaced');
  });

  it('in enforce mode, refuses a .. traversal into a denied folder by "under", alone or in read_multiple_files, though the server would serve it', async () => {
    const privateDir = join(allowedDir, 'private');
    mkdirSync(privateDir);
    mkdirSync(join(allowedDir, 'public'));
    writeFileSync(join(privateDir, 'key'), 'the secret');
    const note = join(allowedDir, 'public', 'note.txt');
    writeFileSync(note, 'a public note');
    const traversal = `${allowedDir}/public/../private/key`;
    const rules = [
      { id: 'private', tool: '*', args: { path: { under: privateDir } }, decision: 'block' },
      { id: 'private-many', tool: 'read_multiple_files', args: { 'paths.*': { under: privateDir } }, decision: 'block' },
    ];

    // The server itself reads the traversal: it stays inside its allowed directory.
    const monitor = await connectViaProxy({ mode: 'monitor', guardrails: { rules } });
    expect(textOf(await monitor.callTool({ name: 'read_text_file', arguments: { path: traversal } }))).toBe('the secret');

    const client = await connectViaProxy({ mode: 'enforce', guardrails: { rules } });
    for (const path of [traversal, `/${privateDir}/key`, `${allowedDir}/public/./../private/`]) {
      const error = await callError(client.callTool({ name: 'read_text_file', arguments: { path } }));
      expect(error.code, path).toBe(-32001);
      expect((error.data as { ruleId?: unknown }).ruleId).toBe('private');
    }
    const many = await callError(client.callTool({ name: 'read_multiple_files', arguments: { paths: [note, traversal] } }));
    expect(many.code).toBe(-32001);
    expect((many.data as { ruleId?: unknown }).ruleId).toBe('private-many');

    expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: note } }))).toBe('a public note');
    expect(textOf(await client.callTool({ name: 'read_multiple_files', arguments: { paths: [note] } }))).toContain('a public note');
  });

  it('in enforce mode, holds write_file for approval and answers -32002 (timeout) after approvalTimeoutMs, leaving the file untouched', async () => {
    const approvalTimeoutMs = 300;
    const client = await connectViaProxy({
      mode: 'enforce',
      approvalTimeoutMs,
      guardrails: { rules: [{ id: 'approve-writes', tool: 'write_file', decision: 'require_approval' }] },
    });
    const file = existingFile();
    const before = file.snapshot();

    const started = performance.now();
    const error = await callError(client.callTool({ name: 'write_file', arguments: { path: file.path, content: 'overwritten' } }));
    const waited = performance.now() - started;

    expect(error.code).toBe(-32002);
    expect(error.data).toMatchObject({ decision: 'require_approval', outcome: 'timeout', ruleId: 'approve-writes' });
    expect(typeof (error.data as { approvalId?: unknown }).approvalId).toBe('string');
    expect(waited).toBeGreaterThanOrEqual(approvalTimeoutMs - 20); // held for the timeout (timer granularity aside)
    expect(file.snapshot()).toEqual(before);
    // The session is still usable after the refusal.
    const read = await client.callTool({ name: 'read_file', arguments: { path: file.path } });
    expect(textOf(read)).toBe(file.content);
  });
});
