/** Finds files shipped with the package (schemas, fixture servers) from source and from dist/ alike. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('ratri: cannot find its package folder (package.json with schemas/)');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();

export function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot, 'schemas', name), 'utf8')) as Record<string, unknown>;
}
