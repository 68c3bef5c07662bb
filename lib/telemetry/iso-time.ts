/**
 * Event times as ISO text. Events come in bursts, many in one second, and every reader of a call's
 * record turns it back into its events (call-event.ts): the text of a second is made once and each
 * millisecond in it is written onto it, which saves a Date and its formatting per event
 * (docs/performance.md#per-call-cpu-issue-13). A call's parts alternate between the milliseconds of
 * its start and of its end, so a cache of one millisecond missed two times in three.
 */

/** The second (ms since the epoch / 1000) whose text `secondPrefix` is: `2026-12-01T19:14:12.` */
let lastSecond = Number.NaN;
let secondPrefix = '';

/** The ISO time of `ms` (ms since the epoch; now by default), as `new Date(ms).toISOString()` writes it. */
export function isoTime(ms: number = Date.now()): string {
  if (!Number.isSafeInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(ms).toISOString();
    // Only a four-digit year has this layout (toISOString writes ±YYYYYY outside 0000-9999).
    if (iso.length !== 24) return iso;
    lastSecond = second;
    secondPrefix = iso.slice(0, 20);
  }
  const milli = ms - second * 1000;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
