/** Test helpers that drive the built CLI (dist/cli/ratri.js) as a real child process. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';
import { openStore } from '../../lib/control/store.js';
import { FrameReader } from '../../lib/framing/frame-reader.js';
import { isProcessAlive } from '../../lib/node/process-alive.js';

export const root = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(root, 'dist', 'cli', 'ratri.js');
export const everythingServer = join(root, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
export const filesystemServer = join(root, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
export const fixtureServer = (name: string): string => join(root, 'fixtures', 'servers', name);

export function tempDir(prefix = 'ratri-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Creates an empty store at `dir`/ratri.db and returns its path: the commands a test runs beside a
 * proxy (`ratri approvals`, `ratri dashboard`) never create one, and the proxy may not have yet.
 */
export function newStore(dir: string): string {
  const path = join(dir, 'ratri.db');
  openStore(path).close();
  return path;
}

/** Writes a config file into `dir` and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>, name = 'ratri.mcp.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion with the given stdin. */
export function runCli(args: string[], input = '', env: Record<string, string> = {}, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ratri ${args.join(' ')} did not exit within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Starts the proxy and gives line-level access to what it writes to the host. */
export class ProxyProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [cliPath, 'mcp', 'proxy', ...args], { env: { ...process.env, ...env } });
    // Split as the proxy splits (a character split between chunks stays whole: frames are decoded whole).
    const frames = new FrameReader(
      { onFrame: (frame) => this.lines.push(frame.toString('utf8')) },
      { maxFrameBytes: Number.POSITIVE_INFINITY },
    );
    this.child.stdout.on('data', (c: Buffer) => {
      frames.push(c);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((r) => this.child.on('close', (code, signal) => r({ code, signal })));
  }

  send(frame: string | object): void {
    this.child.stdin.write((typeof frame === 'string' ? frame : JSON.stringify(frame)) + '\n');
  }

  /** Waits for the next line the proxy writes to the host whose parsed value passes `match`. */
  async waitFor(match: (message: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex((l) => {
        try {
          return match(JSON.parse(l) as Record<string, unknown>);
        } catch {
          return false;
        }
      });
      if (index !== -1) return JSON.parse(this.lines.splice(index, 1)[0]!) as Record<string, unknown>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits for the answer to request `id`. */
  response(id: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.waitFor((m) => m.id === id && ('result' in m || 'error' in m), timeoutMs);
  }

  /** Plays the host's side of the handshake (`initialize`, its answer, `notifications/initialized`). */
  async initialize(protocolVersion = '2025-06-18'): Promise<void> {
    this.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
    });
    await this.response(0);
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** Lines written so far and not yet taken. */
  get unread(): string[] {
    return [...this.lines];
  }
}

/** A `tools/call` request, with `params._meta` when given. */
export const toolCall = (id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

/** True while a process with this pid exists and is not a zombie (exited, waiting to be reaped). */
export const isAlive = isProcessAlive;

/**
 * For a test file's top level: temp folders and proxies its tests make, removed and killed after
 * each test. `dir()` makes a folder; `track()` registers a proxy (or another folder) to clean up.
 */
export function cleanUpAfterEach(prefix: string): { dir: () => string; track: <T extends ProxyProcess | string>(thing: T) => T } {
  const dirs: string[] = [];
  const proxies: ProxyProcess[] = [];
  afterEach(async () => {
    for (const p of proxies.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const track = <T extends ProxyProcess | string>(thing: T): T => {
    if (typeof thing === 'string') dirs.push(thing);
    else proxies.push(thing as ProxyProcess);
    return thing;
  };
  return { dir: () => track(tempDir(prefix)), track };
}
