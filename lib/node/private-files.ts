/**
 * Creating the folders and files of ours that hold what crossed the proxy (the SQLite store, the JSONL
 * sink, `--record` files): only their owner may read them, whatever the umask (docs/control-plane.md,
 * "Where it is"). Folders are created 0700, files 0600.
 */
import { closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export const PRIVATE_FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates the missing folders above `path` one level at a time, each 0700. (`mkdirSync(…, { recursive: true })`
 * spins forever on some file systems, /proc among them, where a level can neither exist nor be made.)
 */
export function makeParentFolders(path: string): void {
  const missing: string[] = [];
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) {
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) mkdirSync(dir, { mode: PRIVATE_FOLDER_MODE });
}

/**
 * Opens `path` for writing (`flags` as in fs.open), creating it and its folders when missing; the
 * file is 0600 from its first byte on. A file that already existed keeps its mode unless `tighten`
 * (a file we are about to overwrite whole).
 */
export function openPrivateFile(path: string, flags: 'a' | 'w', { tighten = false } = {}): number {
  makeParentFolders(path);
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    if (tighten) fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
