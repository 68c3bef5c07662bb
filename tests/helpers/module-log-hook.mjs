// Which modules a process loads: `node --import ./module-log-hook.mjs …` with RATRI_TEST_MODULE_LOG
// set to a file appends the URL of every ES module the process loads to that file, one per line.
// Used to prove that `ratri mcp proxy` does not load the code of the commands it does not run.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let out;

if (isMainThread && process.env.RATRI_TEST_MODULE_LOG) {
  register(import.meta.url, { data: process.env.RATRI_TEST_MODULE_LOG });
}

/** Runs in the loader thread: `data` is the file to append to. */
export function initialize(data) {
  out = data;
}

export async function load(url, context, next) {
  if (out) appendFileSync(out, `${url}\n`);
  return next(url, context);
}
