/**
 * `ratri serve` as a child process for e2e tests: started on a free port, ready when it prints its
 * "listening on" line, and reached over real HTTP. Each test file kills what it started (pass the
 * child to its own clean-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, expect } from 'vitest';
import { cliPath, runCli } from './cli.js';

/** For a test file's top level: the children pushed to the list returned are killed and reaped after each test. */
export function killedAfterEach(): ChildProcess[] {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(
      children.splice(0).map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const closed = new Promise((r) => child.once('close', r));
        child.kill('SIGKILL');
        return closed;
      }),
    );
  });
  return children;
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** What it wrote to stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `ratri serve ARGS --port 0` with `env` added to (or, for undefined values, removed from) the environment. */
export function startServe(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 15_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ratri serve did not start within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^ratri serve: listening on (http:\/\/[^ ]+) /m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      resolve({ child, url: m[1]!, stderr: () => stderr, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ratri serve exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
}

/** One API request with `key` as the bearer key (none when null). */
export async function apiRequest(
  url: string,
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** `ratri serve keys add`: the key it printed (stdout is the key and nothing else). */
export async function addServeKey(file: string, id: string, role: 'proxy' | 'approver', agents: string[] = []): Promise<string> {
  const r = await runCli(['serve', 'keys', 'add', '--keys', file, '--role', role, '--id', id, ...agents.flatMap((a) => ['--agent', a])]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^ratri_[pa]k_[0-9a-f]{64}\n$/);
  return r.stdout.trim();
}
