// Which modules a process loads: `node --import ./module-log-hook.mjs …` with RATRI_TEST_MODULE_LOG
// set to a file appends the URL of every ES module the process loads to that file, one per line.
// The process's own thread adds a line `cjs: REQUEST` for every CommonJS module it requires, and
// `spawn: COMMAND` when it first spawns a process, so the order of the lines tells what ran before
// the spawn. Used to prove that `ratri mcp proxy` does not load the code of the commands it does
// not run, and what it loads before it spawns the upstream.
import childProcess from 'node:child_process';
import { appendFileSync } from 'node:fs';
import Module, { register, syncBuiltinESMExports } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let out;

if (isMainThread && process.env.RATRI_TEST_MODULE_LOG) {
  const file = process.env.RATRI_TEST_MODULE_LOG;
  register(import.meta.url, { data: file });
  const load = Module._load;
  Module._load = function loadLogged(request, ...rest) {
    appendFileSync(file, `cjs: ${request}\n`);
    return load.call(this, request, ...rest);
  };
  const spawn = childProcess.spawn;
  let spawned = false;
  childProcess.spawn = function spawnLogged(command, ...rest) {
    if (!spawned) appendFileSync(file, `spawn: ${command}\n`);
    spawned = true;
    return spawn.call(this, command, ...rest);
  };
  syncBuiltinESMExports();
}

/** Runs in the loader thread: `data` is the file to append to. */
export function initialize(data) {
  out = data;
}

export async function load(url, context, next) {
  if (out) appendFileSync(out, `${url}\n`);
  return next(url, context);
}
