/**
 * The upstream as the doctor starts it. Like lib/proxy/upstream-process.ts (same working directory,
 * environment, own process group, and stop sequence: close stdin, wait, SIGTERM, wait, SIGKILL to
 * the group), except that its stderr is captured instead of passed through: when a server dies
 * before answering, its last stderr lines are the diagnosis, and the doctor shows them in the
 * check (and in --json) rather than interleaved with the checklist.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { resolveConfigPath } from '../config/paths.js';
import type { UpstreamConfig } from '../config/types.js';
import {
  DEFAULT_STOP_TIMINGS,
  SpawnError,
  type StopTimings,
  signalGroup,
  stopInOrder,
  type UpstreamExit,
} from '../proxy/upstream-process.js';

/** How much of the upstream's stderr is kept (the end of it). */
const STDERR_KEEP_BYTES = 8 * 1024;

/** Children still running, so a signal handler can kill them at once (see killAllNow). */
const live = new Set<UpstreamChild>();

/** Kills the process group of every upstream still running (a second Ctrl-C, or process exit). */
export function killAllNow(): void {
  for (const child of live) child.signal('SIGKILL');
}

/** The upstream's working directory, as the proxy computes it. */
export function upstreamCwd(config: UpstreamConfig, baseDir: string): string {
  return config.cwd ? resolveConfigPath(baseDir, config.cwd) : process.cwd();
}

/** Where the command would be found (PATH, or the working directory when it has a `/`); undefined when nowhere. */
export function locateCommand(command: string, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const executable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    return existsSync(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

export class UpstreamChild {
  /** Settles when the child has exited. */
  readonly exited: Promise<UpstreamExit>;
  private exitInfo: UpstreamExit | undefined;
  private stderrTail = '';

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    // A write to an upstream that has gone fails with EPIPE; the check that wrote reports it.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise<UpstreamExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        // Let the last stderr bytes arrive ('close'), but not forever: a grandchild may hold the pipe.
        const settle = (): void => {
          clearTimeout(timer);
          // Grandchildren (npx, shells) may outlive the child: the group goes with it.
          if (child.pid !== undefined) killGroup(child.pid);
          this.exitInfo = { code, signal };
          live.delete(this);
          resolveExit(this.exitInfo);
        };
        const timer = setTimeout(settle, 1000);
        child.once('close', settle);
      });
    });
  }

  /** Spawns the upstream; rejects with SpawnError (code ENOENT, EACCES, …) when it cannot be started. */
  static start(config: UpstreamConfig, baseDir: string, env: NodeJS.ProcessEnv): Promise<UpstreamChild> {
    const cwd = upstreamCwd(config, baseDir);
    if (!existsSync(cwd)) {
      return Promise.reject(new SpawnError(config.command, 'ENOCWD', `its working directory ${cwd} (upstream.cwd) does not exist`));
    }
    return new Promise((resolveStart, rejectStart) => {
      const child = spawn(config.command, config.args ?? [], {
        cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group, so stopping it reaches grandchildren too
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return;
        const why =
          err.code === 'ENOENT'
            ? `not found (looked on PATH and in ${cwd})`
            : err.code === 'EACCES'
              ? 'permission denied (not executable?)'
              : err.message;
        rejectStart(new SpawnError(config.command, err.code, why));
      });
      child.once('spawn', () => {
        const upstream = new UpstreamChild(child);
        live.add(upstream);
        resolveStart(upstream);
      });
    });
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

  /**
   * The last lines the upstream wrote to stderr (at most `lines`). A crash prints its error first
   * and a stack after it, so when the last lines name no error, the last line that does comes first.
   */
  stderrLines(lines = 5): string[] {
    const all = this.stderrTail
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
    const tail = all.slice(-lines);
    const isError = (l: string): boolean => /error/i.test(l);
    const error = all.slice(0, -lines).findLast(isError);
    return error !== undefined && !tail.some(isError) ? [error, '…', ...tail] : tail;
  }

  /** Sends a signal to the whole process group (falls back to the child alone). */
  signal(signal: NodeJS.Signals): void {
    signalGroup(this, signal);
  }

  /** Close stdin → wait → SIGTERM → wait → SIGKILL, as the proxy stops its upstream. */
  stop(timings: StopTimings = DEFAULT_STOP_TIMINGS): Promise<UpstreamExit> {
    return stopInOrder(this, timings);
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // nothing left
  }
}

/** "exited with code 1" / "was killed by SIGKILL". */
export function describeExit(exit: UpstreamExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? '?'}`;
}
