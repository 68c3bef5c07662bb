/**
 * The exit code the `ratri` process ends with, from how its upstream ended: the upstream's own code,
 * or the shell's convention for a process ended by a signal (128 + the signal's number).
 */
import { constants } from 'node:os';
import type { UpstreamExit } from './upstream-process.js';

export function signalExitCode(signal: NodeJS.Signals | null): number {
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

export function exitCodeOf(exit: UpstreamExit): number {
  return exit.code ?? signalExitCode(exit.signal);
}
