// Makes the built CLI executable so `npx ratri` and the package `bin` work right after `npm install`.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli/ratri.js', import.meta.url), 0o755);
