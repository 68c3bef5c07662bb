// `node --import bench/spawn-cpu-hook.mjs …`: prints to stderr, once, the CPU time (user + system) the
// process has used when it first calls child_process.spawn, and its wall time since it started.
// bench/spawn-cpu.mjs uses it for ratri's cost before it spawns the upstream.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const spawn = childProcess.spawn;
let told = false;
childProcess.spawn = function spawnTold(...args) {
  if (!told) {
    told = true;
    const { user, system } = process.cpuUsage();
    process.stderr.write(`spawn-cpu ${((user + system) / 1000).toFixed(1)} ms, wall ${performance.now().toFixed(1)} ms\n`);
  }
  return spawn.apply(this, args);
};
syncBuiltinESMExports();
