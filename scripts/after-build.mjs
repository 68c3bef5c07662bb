// Generates the standalone config validator into dist/, bundles what a stdio proxy loads (before
// and after it spawns the upstream: docs/performance.md#start-up), and makes the built CLI
// executable so `npx ratri` and the package `bin` work right after `npm install`.
import { chmodSync } from 'node:fs';
import { bundleProxy } from './bundle-proxy.mjs';
import { writeStandaloneValidator } from './standalone-validator.mjs';

writeStandaloneValidator();
await bundleProxy();
chmodSync(new URL('../dist/cli/ratri.js', import.meta.url), 0o755);
