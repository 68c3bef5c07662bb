/** Creating the folders a file of ours needs (the JSONL sink, the SQLite store). */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates the missing folders above `path` one level at a time. (`mkdirSync(…, { recursive: true })`
 * spins forever on some file systems, /proc among them, where a level can neither exist nor be made.)
 */
export function makeParentFolders(path: string): void {
  const missing: string[] = [];
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) {
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) mkdirSync(dir);
}
