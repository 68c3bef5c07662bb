/**
 * The upstream MCP server as a child process, the one spawner the proxy and the doctor share:
 * spawned from the config's command/args/cwd, with the environment `upstream-env.ts` builds
 * (ratri's credentials left out), in a process group of its own, and stopped the way the MCP stdio
 * transport asks (close its stdin, wait, SIGTERM, then SIGKILL) so that no process is ever left
 * behind. Its stderr is passed to ours (`inherit`, the proxy: the host's log shows it) or kept
 * (`capture`, the doctor: the last lines explain a crash), like the MCP SDK's StdioClientTransport.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { resolveConfigPath } from '../config/paths.js';
import type { UpstreamConfig } from '../config/types.js';
import { settlesWithin } from '../node/deadline.js';
import { StderrTail } from './stderr-tail.js';

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

export interface SpawnOptions {
  /** `inherit`: the child writes to our stderr; `capture`: it is kept for `stderrLines()`. */
  stderr: 'inherit' | 'capture';
}

/**
 * After the child's exit, how long its last bytes may take to arrive ('close'): short when only
 * stdout is ours (the whole stop must fit in the host's kill window), longer when its stderr is the
 * diagnosis. A grandchild may hold the pipes, so never forever.
 */
const CLOSE_WAIT_MS = { inherit: 250, capture: 1000 } as const;

/** The one wording of a start failure (docs/config.md lists the exit codes; docs/doctor.md shows it). */
function spawnProblem(err: NodeJS.ErrnoException, cwd: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `not found (looked on PATH and in ${cwd})`;
    case 'EACCES':
      return 'permission denied (is it executable?)';
    default:
      return err.message;
  }
}

function spawnError(command: string, code: string | undefined, why: string): SpawnError {
  return new SpawnError(command, code, `cannot start upstream command "${command}": ${why}`);
}

/** The upstream's working directory: upstream.cwd relative to the config file, or ours. */
export function upstreamCwd(config: UpstreamConfig, baseDir: string): string {
  return config.cwd ? resolveConfigPath(baseDir, config.cwd) : process.cwd();
}

/** Kills whatever is left of a process group (the child may have exited and left grandchildren). */
function killGroupOf(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left
  }
}

/** Settles when the child has exited and its stdio closed (or CLOSE_WAIT_MS after the exit); its group is then killed. */
function exitOf(child: ChildProcess, closeWaitMs: number): Promise<UpstreamExit> {
  return new Promise<UpstreamExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      const settle = (): void => {
        clearTimeout(timer);
        // Grandchildren (npx, shells) may outlive the child: the group goes with it.
        if (child.pid !== undefined) killGroupOf(child.pid);
        resolveExit({ code, signal });
      };
      const timer = setTimeout(settle, closeWaitMs);
      child.once('close', settle);
    });
  });
}

export class UpstreamProcess {
  readonly child: ChildProcess;
  /** Settles when the child has exited (and its stdio closed). */
  readonly exited: Promise<UpstreamExit>;
  private exitInfo: UpstreamExit | undefined;

  private constructor(
    child: ChildProcess,
    exited: Promise<UpstreamExit>,
    private readonly stderrTail: StderrTail | undefined,
  ) {
    this.child = child;
    this.exited = exited.then((e) => (this.exitInfo = e));
  }

  /** Spawns the upstream with `env` (see upstreamEnv); rejects with SpawnError (code ENOENT, EACCES, ENOCWD, …) when it cannot be started. */
  static start(
    config: UpstreamConfig,
    baseDir: string,
    env: NodeJS.ProcessEnv,
    options: SpawnOptions = { stderr: 'inherit' },
  ): Promise<UpstreamProcess> {
    const cwd = upstreamCwd(config, baseDir);
    if (!existsSync(cwd)) {
      return Promise.reject(spawnError(config.command, 'ENOCWD', `its working directory ${cwd} (upstream.cwd) does not exist`));
    }
    return new Promise((resolveStart, rejectStart) => {
      const child = spawn(config.command, config.args ?? [], {
        cwd,
        env,
        stdio: ['pipe', 'pipe', options.stderr === 'capture' ? 'pipe' : 'inherit'],
        detached: true, // its own process group, so stop() reaches grandchildren (npx, shells) too
      });
      const tail = options.stderr === 'capture' ? new StderrTail() : undefined;
      if (tail) {
        child.stderr?.on('data', (chunk: Buffer) => tail.add(chunk));
        // A write to an upstream that has gone fails with EPIPE; the check that wrote reports it.
        child.stdin?.on('error', () => undefined);
      }
      const exited = exitOf(child, CLOSE_WAIT_MS[options.stderr]);
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (child.pid === undefined) rejectStart(spawnError(config.command, err.code, spawnProblem(err, cwd)));
      });
      child.once('spawn', () => resolveStart(new UpstreamProcess(child, exited, tail)));
    });
  }

  /** Its stdin and stdout are always pipes (spawned with 'pipe' for both). */
  get stdin(): Writable {
    return this.child.stdin as Writable;
  }

  get stdout(): Readable {
    return this.child.stdout as Readable;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** How it ended, once it has. */
  get exit(): UpstreamExit | undefined {
    return this.exitInfo;
  }

  /** The last lines it wrote to stderr (see StderrTail); none unless started with `stderr: 'capture'`. */
  stderrLines(lines = 5): string[] {
    return this.stderrTail?.lastLines(lines) ?? [];
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

/** A started child, as the stop sequence sees it. */
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
  return p.hasExited ? Promise.resolve(true) : settlesWithin(p.exited, ms);
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
