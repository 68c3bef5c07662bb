#!/usr/bin/env node
/**
 * Where does the proxy spend its time? Runs one variant's middle process under `node --cpu-prof`,
 * drives it with the benchmark client (pipelined echo calls, optionally large ones), and prints the
 * functions with the most self time and the most inclusive time.
 *
 *   node bench/profile.mjs [monitor|enforce|store|relay] [calls]   (needs dist/: npm run build)
 *   PROFILE_BIG=5 node bench/profile.mjs enforce 0              (five 1 MB echoes instead)
 *
 * The .cpuprofile file is kept (its path is printed); open it in Chrome DevTools → Performance.
 * A ratri variant's store (<variant>.db) is written to the same temp dir.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { McpStdioClient } from './client.mjs';
import { defineVariants } from './variants.mjs';

const name = process.argv[2] ?? 'monitor';
const calls = Number(process.argv[3] ?? 50_000);
const big = Number(process.env.PROFILE_BIG ?? 0);
const message = 'hello from the ratri benchmark';

const dir = mkdtempSync(join(os.tmpdir(), 'ratri-profile-'));
const variant = defineVariants(dir, ['--cpu-prof', `--cpu-prof-dir=${dir}`]).find((v) => v.name === name);
if (!variant || !variant.proxy) {
  process.stderr.write('usage: node bench/profile.mjs [monitor|enforce|store|relay] [calls]\n');
  process.exit(2);
}

const client = new McpStdioClient({ name, command: variant.command, args: variant.args, env: variant.env });
try {
  await client.start();
  await client.initialize();
  await client.request('tools/list', {});
  await client.pipelinedEcho(5000, 32, message);
  const started = performance.now();
  if (calls > 0) await client.pipelinedEcho(calls, 32, message);
  const bigMessage = 'x'.repeat(1024 * 1024);
  for (let i = 0; i < big; i++) await client.callEcho(bigMessage);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${name}: ${calls} pipelined calls${big ? ` and ${big} × 1 MB` : ''} in ${seconds.toFixed(1)} s\n`);
} finally {
  const exit = await client.close();
  if (exit?.forced) process.stderr.write(`${name} needed ${exit.forced} to stop; the profile may be missing\n`);
}

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) {
  process.stderr.write(`no .cpuprofile in ${dir}\n`);
  process.exit(1);
}
summarize(join(dir, file));

function summarize(path) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\/.*\/bench\//, 'bench/');
    return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
  };
  let total = 0;
  const self = new Map();
  const inclusive = new Map();
  for (const [id, us] of selfUs) {
    total += us;
    const key = label(byId.get(id));
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - (self.get('(idle)') ?? 0);
  const top = (m, n) =>
    [...m]
      .filter(([k]) => k !== '(root)' && k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  process.stdout.write(
    `\nprofile: ${path}\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms (percentages are of busy time)\n`,
  );
  process.stdout.write(`\n-- self time --\n${top(self, 25)}\n\n-- inclusive time --\n${top(inclusive, 40)}\n`);
}
