// What the secret detector costs (docs/performance.md#secret-detection): the prefilter alone, the
// prefilter and a JSON value's scan as the proxy runs it on each event (findValueSecrets), and a
// secretlint run, on a typical tool call's arguments, a 64 KiB file text, and the same with a token.
// Run after `npm run build`: node bench/secret-scan.mjs
import { lintSource } from '@secretlint/core';
import { secretFinder } from '../dist/lib/secrets/find-secrets.js';
import { findValueSecrets } from '../dist/lib/secrets/json-secrets.js';
import { secretlintConfig } from '../dist/lib/secrets/secret-rules.js';

const find = secretFinder();
const token = `ghp_${'A1b2C3d4'.repeat(4)}E5f6`;
const small = { path: '/home/user/project/src/index.ts', encoding: 'utf8', limit: 200 };
const file = { content: [{ type: 'text', text: 'const answer = 42; // a line of ordinary source code\n'.repeat(1260) }] };
const cases = { 'call arguments (76 B)': small, 'file text (64 KiB)': file, 'call arguments with a token': { ...small, token } };

async function time(label, n, run) {
  for (let i = 0; i < Math.min(n, 200); i++) await run(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await run();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(58)} ${us.toFixed(us < 10 ? 2 : 0).padStart(8)} µs`);
}

const config = secretlintConfig([]);
for (const [name, value] of Object.entries(cases)) {
  const json = JSON.stringify(value);
  const n = json.length > 10_000 ? 500 : 20_000;
  await time(`${name}: prefilter alone`, n, () => find.mayHold(json));
  await time(`${name}: findValueSecrets (stringify + prefilter [+ scan])`, n, () => findValueSecrets(value, find));
  const source = { content: json, filePath: 'x.json', ext: '.json', contentType: 'text' };
  await time(`${name}: secretlint alone (lintSource)`, json.length > 10_000 ? 20 : 300, () =>
    lintSource({ source, options: { config, noPhysicFilePath: true } }),
  );
}
