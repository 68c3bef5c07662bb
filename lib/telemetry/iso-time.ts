/**
 * Event times as ISO text. Events come in bursts, many in one millisecond, and every reader of a
 * call's record turns it back into its events (call-event.ts): formatting each millisecond once
 * saves a Date and its formatting per event (docs/performance.md#per-call-cpu-issue-13).
 */

let lastMs = Number.NaN;
let lastIso = '';

/** The ISO time of `ms` (ms since the epoch), as `new Date(ms).toISOString()` writes it. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
