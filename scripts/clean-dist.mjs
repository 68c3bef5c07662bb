// Empties dist/ before a build: tsc never deletes output, so a source file removed or renamed would
// otherwise leave its old .js behind, to be run by mistake and packed into the npm tarball.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
