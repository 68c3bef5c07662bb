/**
 * secretlint's profiler (@secretlint/profiler) adds about thirty performance marks to the global
 * timeline on every run, keeps each in its own lists for ever, and measures between them later
 * (a measure whose mark was cleared throws, uncaught). A proxy that runs for days would grow without
 * end (Node warns past a million marks), and ratri never reads the profile: so its `mark` is made to
 * do nothing, once, before the first run. Nothing is marked, so nothing is kept or measured.
 */
import { secretLintProfiler } from '@secretlint/profiler';

let silenced = false;

/** Stops secretlint's profiler from marking; idempotent. */
export function silenceSecretlintProfiler(): void {
  if (silenced) return;
  (secretLintProfiler as unknown as { mark: (marker: unknown) => void }).mark = () => undefined;
  silenced = true;
}
