// Makes the built CLI executable so `npx ratri` and the package `bin` work right after `npm install`,
// and generates the standalone config validator into dist/.
import { chmodSync } from 'node:fs';
import { writeStandaloneValidator } from './standalone-validator.mjs';

chmodSync(new URL('../dist/cli/ratri.js', import.meta.url), 0o755);
writeStandaloneValidator();
