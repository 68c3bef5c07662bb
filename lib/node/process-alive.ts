/** Whether a process still runs: the demo checks that it left none behind, and so do the tests. */
import { readFileSync } from 'node:fs';

/** True while a process with this pid exists and is not a zombie (exited, waiting to be reaped). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie still answers kill(0); on Linux its state letter after the name says so.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // The process ended between the two reads, or there is no /proc (macOS): kill(0) succeeded,
    // so it existed a moment ago; ask again to tell the two apart.
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
