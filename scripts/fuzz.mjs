// A longer run of the differential fuzzer (tests/e2e/fuzz-differential.test.ts; docs/golden-files.md,
// "The differential fuzzer"): `npm run fuzz -- --runs 200 [--seed S [--path P]] [--shrink]`. `npm test`
// runs a few sessions; this runs --runs proxy sessions per mode, each of up to 30 generated frames.
// --seed replays a failure (the seed is printed with it; with the printed --path, the very run that
// failed); --shrink cuts the failing session down to a minimal list of frames (each step is a proxy
// session, so it takes a while).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = 'usage: npm run fuzz -- [--runs N] [--seed S [--path P]] [--shrink]';
let options;
try {
  options = parseArgs({
    options: {
      runs: { type: 'string', default: '100' },
      seed: { type: 'string' },
      path: { type: 'string' },
      shrink: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
for (const [name, value] of [
  ['--runs', options.runs],
  ['--seed', options.seed],
]) {
  if (value !== undefined && !/^-?\d+$/.test(value)) {
    console.error(`${name} must be an integer, got ${JSON.stringify(value)}\n${usage}`);
    process.exit(2);
  }
}
if (options.path !== undefined && (options.seed === undefined || !/^\d+(:\d+)*$/.test(options.path))) {
  console.error(`--path needs --seed and looks like 3:1:0 (as printed with a failure), got ${JSON.stringify(options.path)}\n${usage}`);
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const env = {
  ...process.env,
  RATRI_FUZZ_RUNS: options.runs,
  ...(options.seed ? { RATRI_FUZZ_SEED: options.seed } : {}),
  ...(options.path ? { RATRI_FUZZ_PATH: options.path } : {}),
  ...(options.shrink ? { RATRI_FUZZ_SHRINK: '1' } : {}),
};
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const run = spawnSync(process.execPath, [vitest, 'run', 'tests/e2e/fuzz-differential.test.ts'], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
