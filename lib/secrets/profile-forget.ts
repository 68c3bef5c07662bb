/**
 * secretlint's profiler (@secretlint/profiler) adds about thirty performance marks to the global
 * timeline on every run and keeps every one in its own lists too, for ever: a proxy that runs for
 * days would grow without end (Node warns past a million marks). ratri never reads the profile, so
 * after each run it is emptied: the profiler's lists, and secretlint's marks and measures.
 */
import { performance } from 'node:perf_hooks';
import { secretLintProfiler } from '@secretlint/profiler';

/** Empties what secretlint's profiler kept of the runs so far. */
export function forgetSecretlintProfile(): void {
  const profiler = secretLintProfiler as unknown as { entries: unknown[]; measures: unknown[] };
  profiler.entries.length = 0;
  profiler.measures.length = 0;
  // Its marks are named "@core>…" and after rule ids ("@secretlint/…"); ratri sets none of its own.
  for (const entry of [...performance.getEntriesByType('mark'), ...performance.getEntriesByType('measure')]) {
    if (entry.name.startsWith('@')) {
      if (entry.entryType === 'mark') performance.clearMarks(entry.name);
      else performance.clearMeasures(entry.name);
    }
  }
}
