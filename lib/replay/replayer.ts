/**
 * `ratri replay FILE`: runs the real proxy (the built CLI, as a child process) with a scripted
 * upstream, feeds it the golden session's input frames in order, and compares every frame it
 * writes, byte for byte, with the expected ones.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDeadline } from '../node/deadline.js';
import { packageRoot } from '../node/package-files.js';
import { ByteChannel } from './byte-channel.js';
import type { GoldenSession } from './golden-format.js';

export interface ReplayResult {
  ok: boolean;
  /** One line per problem: the step, what was expected, what came. */
  problems: string[];
  steps: number;
  stderr: string;
}

export interface ReplayOptions {
  /** How long an expected frame may take to arrive. */
  frameTimeoutMs?: number;
  /** The CLI to run; defaults to this package's built dist/cli/ratri.js. */
  cliPath?: string;
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

function nextConnection(server: Server, timeoutMs: number, what: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: the scripted upstream did not connect within ${timeoutMs} ms`)), timeoutMs);
    timer.unref(); // a replay that ended early (the proxy exited) leaves nothing waiting on it
    server.once('connection', (socket) => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** Resolves with the promise's value, or with 'timeout' after `ms`. */
function orTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return withDeadline(promise, ms, () => 'timeout' as const);
}

/** Describes where two byte strings first differ, for a readable diff line. */
export function describeDiff(expected: Buffer, actual: Buffer): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const show = (b: Buffer): string => JSON.stringify(b.subarray(Math.max(0, i - 20), i + 40).toString('utf8'));
  return `first difference at byte ${i} (expected ${expected.length} bytes, got ${actual.length}): expected …${show(expected)}… got …${show(actual)}…`;
}

export async function replay(session: GoldenSession, options: ReplayOptions = {}): Promise<ReplayResult> {
  const frameTimeoutMs = options.frameTimeoutMs ?? 5000;
  const dir = mkdtempSync(join(tmpdir(), 'ratri-replay-'));
  const dataPath = join(dir, 'data.sock');
  const controlPath = join(dir, 'control.sock');
  const configPath = join(dir, 'ratri.mcp.json');
  const dataServer = createServer();
  const controlServer = createServer();
  const problems: string[] = [];
  let stderr = '';
  let stepNo = 0;
  let started: ChildProcess | undefined;
  try {
    await listenOnce(dataServer, dataPath);
    await listenOnce(controlServer, controlPath);
    const upstreamScript = join(packageRoot, 'fixtures', 'servers', 'scripted-upstream.mjs');
    const config = {
      ...session.header.config,
      store: join(dir, 'ratri.db'), // a fresh store: nothing from other runs (approvals, trusted tools) can change a replay
      upstream: {
        command: process.execPath,
        args: [upstreamScript],
        env: { RATRI_REPLAY_DATA: dataPath, RATRI_REPLAY_CONTROL: controlPath },
      },
    };
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const dataConn = nextConnection(dataServer, 10_000, 'data');
    const controlConn = nextConnection(controlServer, 10_000, 'control');
    const cli = options.cliPath ?? join(packageRoot, 'dist', 'cli', 'ratri.js');
    const proxy = spawn(process.execPath, [cli, 'mcp', 'proxy', '--config', configPath], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, RATRI_SESSION_ID: 'golden' },
    });
    proxy.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    started = proxy;
    const proxyExit = new Promise<number | null>((resolve) => proxy.once('close', (code) => resolve(code)));
    // A proxy that stops before its upstream connects (a config the proxy refuses) ends this replay
    // with its own words, at once, instead of two connection timeouts.
    const exitedFirst = proxyExit.then((code): never => {
      throw new Error(`the proxy exited (code ${code}) before its upstream connected (its stderr says why)`);
    });
    exitedFirst.catch(() => undefined);
    const [upstreamData, control] = await Promise.race([Promise.all([dataConn, controlConn]), exitedFirst]);
    const toHost = new ByteChannel(proxy.stdout);
    const toUpstream = new ByteChannel(upstreamData);
    let upstreamBytesSent = 0;

    for (const step of session.steps) {
      stepNo++;
      if ('from' in step) {
        if (step.from === 'host') proxy.stdin.write(step.bytes);
        else {
          upstreamData.write(step.bytes);
          upstreamBytesSent += step.bytes.length;
        }
      } else if ('to' in step) {
        const channel = step.to === 'host' ? toHost : toUpstream;
        const actual = await channel.next(frameTimeoutMs);
        if (actual === undefined) {
          problems.push(
            `step ${stepNo}: expected a frame to ${step.to}, none came within ${frameTimeoutMs} ms: ${JSON.stringify(step.bytes.toString('utf8').slice(0, 200))}`,
          );
          break;
        }
        if (!actual.equals(step.bytes)) {
          problems.push(`step ${stepNo}: frame to ${step.to} differs: ${describeDiff(step.bytes, actual)}`);
          break;
        }
      } else if ('wait' in step) {
        await new Promise((r) => setTimeout(r, step.wait));
      } else if ('close' in step) {
        proxy.stdin.end();
      } else if ('exit' in step) {
        control.write(`exit ${step.exit} ${upstreamBytesSent}\n`);
      } else if ('expectExit' in step) {
        const code = await orTimeout(proxyExit, 10_000);
        if (code !== step.expectExit) problems.push(`step ${stepNo}: expected the proxy to exit with ${step.expectExit}, got ${code}`);
      }
    }
    if (problems.length === 0) {
      // Anything else the proxy wrote is a difference too.
      await new Promise((r) => setTimeout(r, 100));
      for (const [name, channel] of [
        ['host', toHost],
        ['upstream', toUpstream],
      ] as const) {
        const extra = channel.drain();
        if (extra.length > 0)
          problems.push(
            `after the last step: ${extra.length} unexpected frame(s) to ${name}, first: ${JSON.stringify(extra[0]!.toString('utf8').slice(0, 200))}`,
          );
      }
    }
    proxy.stdin.end();
    const settled = await orTimeout(proxyExit, 8000);
    if (settled === 'timeout') {
      proxy.kill('SIGKILL');
      problems.push('the proxy did not exit within 8 s after its stdin closed');
    }
    upstreamData.destroy();
    control.destroy();
  } catch (err) {
    problems.push(`step ${stepNo}: ${(err as Error).message}`);
  } finally {
    if (started && started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
    dataServer.close();
    controlServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok: problems.length === 0, problems, steps: session.steps.length, stderr };
}
