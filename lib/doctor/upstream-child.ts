/**
 * The upstream as the doctor starts it: the proxy's spawner (lib/session/upstream-process.ts: same
 * working directory, environment, own process group and stop sequence) with its stderr captured
 * instead of passed through, so that a server's last stderr lines appear in the check (and in
 * --json) rather than interleaved with the checklist. The children still running are kept, so a
 * second Ctrl-C can kill them at once.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { UpstreamConfig } from '../config/types.js';
import { type UpstreamExit, UpstreamProcess } from '../session/upstream-process.js';

/** Children still running, so a signal handler can kill them at once (see killAllNow). */
const live = new Set<UpstreamProcess>();

/** Kills the process group of every upstream still running (a second Ctrl-C, or process exit). */
export function killAllNow(): void {
  for (const child of live) child.signal('SIGKILL');
}

/** Spawns the upstream with its stderr captured; rejects with SpawnError when it cannot be started. */
export async function startUpstream(config: UpstreamConfig, baseDir: string, env: NodeJS.ProcessEnv): Promise<UpstreamProcess> {
  const upstream = await UpstreamProcess.start(config, baseDir, env, { stderr: 'capture' });
  live.add(upstream);
  void upstream.exited.then(() => live.delete(upstream));
  return upstream;
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

/** "exited with code 1" / "was killed by SIGKILL". */
export function describeExit(exit: UpstreamExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? '?'}`;
}
