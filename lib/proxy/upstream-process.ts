/**
 * The upstream MCP server as a child process: spawned from the config's command/args/cwd, with the
 * environment `upstream-env.ts` builds (ratri's credentials left out), in a process group of its own, stderr passed to ours, and stopped the way the MCP stdio transport
 * asks (close its stdin, wait, SIGTERM, then SIGKILL) so that no process is ever left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolveConfigPath } from '../config/paths.js';
import type { UpstreamConfig } from '../config/types.js';

export interface UpstreamExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The command could not be started at all. */
export class SpawnError extends Error {
  constructor(
    readonly command: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SpawnError';
  }
}

export interface StopTimings {
  /** After closing stdin, how long to wait before SIGTERM. */
  graceMs: number;
  /** After SIGTERM, how long to wait before SIGKILL. */
  termMs: number;
}

export const DEFAULT_STOP_TIMINGS: StopTimings = { graceMs: 2000, termMs: 2000 };

function spawnProblem(command: string, err: NodeJS.ErrnoException, cwd: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `cannot start upstream command "${command}": not found (checked PATH and the working directory ${cwd})`;
    case 'EACCES':
      return `cannot start upstream command "${command}": permission denied (is it executable?)`;
    default:
      return `cannot start upstream command "${command}": ${err.message}`;
  }
}

/** Kills whatever is left of a process group (the child may have exited and left grandchildren). */
function killGroupOf(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left
  }
}

export class UpstreamProcess {
  readonly child: ChildProcess;
  /** Settles when the child has exited (and its stdio closed). */
  readonly exited: Promise<UpstreamExit>;
  private exitInfo: UpstreamExit | undefined;

  private constructor(child: ChildProcess, exited: Promise<UpstreamExit>) {
    this.child = child;
    this.exited = exited.then((e) => (this.exitInfo = e));
  }

  /** Spawns the upstream with `env` (see upstreamEnv); rejects with SpawnError when the command cannot be started. */
  static start(config: UpstreamConfig, baseDir: string, env: NodeJS.ProcessEnv): Promise<UpstreamProcess> {
    const cwd = config.cwd ? resolveConfigPath(baseDir, config.cwd) : process.cwd();
    if (!existsSync(cwd)) {
      return Promise.reject(
        new SpawnError(
          config.command,
          'ENOENT',
          `cannot start upstream command "${config.command}": its working directory ${cwd} (upstream.cwd) does not exist`,
        ),
      );
    }
    return new Promise((resolveStart, rejectStart) => {
      const child = spawn(config.command, config.args ?? [], {
        cwd,
        env,
        stdio: ['pipe', 'pipe', 'inherit'],
        detached: true, // its own process group, so stop() reaches grandchildren (npx, shells) too
      });
      const exited = new Promise<UpstreamExit>((resolveExit) => {
        child.once('exit', (code, signal) => {
          // Let the last stdout bytes arrive ('close'; they are already in the pipe), but not for long: a
          // grandchild may hold the pipe, and the whole stop must fit in the host's kill window.
          const settle = (): void => {
            clearTimeout(timer);
            if (child.pid !== undefined) killGroupOf(child.pid);
            resolveExit({ code, signal });
          };
          const timer = setTimeout(settle, 250);
          child.once('close', settle);
        });
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (child.pid === undefined) rejectStart(new SpawnError(config.command, err.code, spawnProblem(config.command, err, cwd)));
      });
      child.once('spawn', () => resolveStart(new UpstreamProcess(child, exited)));
    });
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Sends a signal to the whole process group (falls back to the child alone). */
  signal(signal: NodeJS.Signals): void {
    signalGroup(this, signal);
  }

  /** Close stdin → wait → SIGTERM → wait → SIGKILL. Resolves with how the child ended. */
  stop(timings: StopTimings = DEFAULT_STOP_TIMINGS): Promise<UpstreamExit> {
    return stopInOrder(this, timings);
  }
}

/** A started child, as the stop sequence sees it (UpstreamProcess, and the doctor's UpstreamChild). */
export interface StoppableChild {
  readonly child: ChildProcess;
  /** Settles when the child has exited. */
  readonly exited: Promise<UpstreamExit>;
  readonly hasExited: boolean;
}

/** Sends a signal to the child's whole process group (falls back to the child alone). */
export function signalGroup(p: StoppableChild, signal: NodeJS.Signals): void {
  if (p.hasExited || p.child.pid === undefined) return;
  try {
    process.kill(-p.child.pid, signal);
  } catch {
    try {
      p.child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function exitedWithin(p: StoppableChild, ms: number): Promise<boolean> {
  if (p.hasExited) return Promise.resolve(true);
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => resolveWait(false), ms);
    void p.exited.then(() => {
      clearTimeout(timer);
      resolveWait(true);
    });
  });
}

/** Close stdin → wait → SIGTERM → wait → SIGKILL, to the group. Resolves with how the child ended. */
export async function stopInOrder(p: StoppableChild, timings: StopTimings): Promise<UpstreamExit> {
  if (!p.child.stdin?.destroyed) p.child.stdin?.end();
  if (await exitedWithin(p, timings.graceMs)) return p.exited;
  signalGroup(p, 'SIGTERM');
  if (await exitedWithin(p, timings.termMs)) return p.exited;
  signalGroup(p, 'SIGKILL');
  return p.exited;
}
