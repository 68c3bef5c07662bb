/**
 * What ratri costs before it spawns the upstream, the part of a host's wait that is ratri's own:
 * the CPU time (user + system) a `ratri mcp proxy --config FILE` process has used when it calls
 * spawn, against a bare `node -e` that only spawns. CPU time hardly depends on what else the
 * machine runs, so this is the steady start-up figure on a busy machine (docs/performance.md#start-up).
 *
 *   node bench/spawn-cpu.mjs [RUNS] [another build's dist/cli/ratri.js …]
 *
 * Starts are interleaved (bare, this build, the others, bare, …); the upstream is `/bin/true`, so
 * only ratri's own start is measured. Prints the median and the range of each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const hook = fileURLToPath(new URL('./spawn-cpu-hook.mjs', import.meta.url));
const thisBuild = fileURLToPath(new URL('../dist/cli/ratri.js', import.meta.url));
const runs = Number(process.argv[2] ?? 15);
const builds = [thisBuild, ...process.argv.slice(3)];
const dir = mkdtempSync(join(tmpdir(), 'ratri-spawn-cpu-'));
const config = join(dir, 'ratri.mcp.json');
writeFileSync(
  config,
  JSON.stringify({ agentKey: 'bench', mode: 'monitor', store: join(dir, 'ratri.db'), upstream: { command: '/bin/true' } }),
);

/** CPU ms at the first spawn of `node --import hook ARGS`. */
function cpuAtSpawn(args) {
  const r = spawnSync(process.execPath, ['--import', hook, ...args], { input: '', encoding: 'utf8', timeout: 20_000 });
  const m = /spawn-cpu ([\d.]+) ms/.exec(r.stderr ?? '');
  if (!m) throw new Error(`no spawn seen: ${args.join(' ')}\n${r.stderr}`);
  return Number(m[1]);
}

const variants = [
  { name: 'node -e, spawning only', args: ['-e', "require('node:child_process').spawn('/bin/true')"] },
  ...builds.map((cli) => ({ name: cli, args: [cli, 'mcp', 'proxy', '--config', config] })),
];
const samples = variants.map(() => []);
try {
  for (let i = 0; i < runs; i++) variants.forEach((v, k) => samples[k].push(cpuAtSpawn(v.args)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [k, v] of variants.entries()) {
  const xs = samples[k];
  console.log(`${median(xs).toFixed(0).padStart(5)} ms  (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})  ${v.name}`);
}
