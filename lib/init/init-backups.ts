/**
 * The files `ratri init` changed, and their bytes from before it ever changed them, under
 * `<ratri home>/init-backups/` (manifest.json and one copy per file, readable by this user only), so
 * `ratri init --undo` puts every file back byte for byte (docs/hosts.md#undo).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ratriHome } from '../config/paths.js';

interface ManifestEntry {
  /** The copy of the file from before init first changed it; null when init created the file. */
  backup: string | null;
  /** sha256 of what init last wrote, to notice a file changed since. */
  written: string;
}

interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

export const backupFolder = (): string => join(ratriHome(), 'init-backups');
const manifestPath = (): string => join(backupFolder(), 'manifest.json');
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function readManifest(): Manifest {
  if (!existsSync(manifestPath())) return { version: 1, files: {} };
  return JSON.parse(readFileSync(manifestPath(), 'utf8')) as Manifest;
}

function writeManifest(manifest: Manifest): void {
  if (Object.keys(manifest.files).length === 0) {
    if (existsSync(manifestPath())) unlinkSync(manifestPath());
    return;
  }
  writeFileSync(manifestPath(), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Writes `text` to `path`, keeping the original bytes first if init has not changed the file
 * before. Returns the backup's path (null for a file init creates).
 */
export function writeWithBackup(path: string, text: string): string | null {
  mkdirSync(backupFolder(), { recursive: true, mode: 0o700 });
  chmodSync(backupFolder(), 0o700);
  const manifest = readManifest();
  let entry = manifest.files[path];
  if (!entry) {
    let backup: string | null = null;
    if (existsSync(path)) {
      backup = join(backupFolder(), `${Date.now()}-${sha256(path).slice(0, 8)}-${basename(path)}`);
      // Host configs may hold tokens in "env": the copy is readable by this user only.
      writeFileSync(backup, readFileSync(path), { mode: 0o600 });
    }
    entry = { backup, written: '' };
  }
  mkdirSync(dirname(path), { recursive: true });
  // A file init creates (a ratri config) holds the servers' command lines, which may hold tokens:
  // readable by this user only. A file that exists keeps its mode.
  writeFileSync(path, text, { mode: 0o600 });
  manifest.files[path] = { ...entry, written: sha256(text) };
  writeManifest(manifest);
  return entry.backup;
}

export interface UndoResult {
  path: string;
  outcome: 'restored' | 'removed' | 'changed since' | 'missing';
  backup: string | null;
}

/**
 * Puts back every file init changed. When one changed since init wrote it, nothing is put back
 * (a host entry must never name a ratri config that is gone) unless `force`.
 */
export function undoInit(force: boolean): UndoResult[] {
  const manifest = readManifest();
  // Host files first, then the ratri configs they named (the reverse of the order they were written).
  const entries = Object.entries(manifest.files).reverse();
  const current = new Map(entries.map(([path]) => [path, existsSync(path) ? readFileSync(path) : undefined]));
  const changed = entries.filter(([path, entry]) => current.get(path) !== undefined && sha256(current.get(path)!) !== entry.written);
  if (changed.length > 0 && !force) return changed.map(([path, entry]) => ({ path, outcome: 'changed since', backup: entry.backup }));
  const results: UndoResult[] = [];
  for (const [path, entry] of entries) {
    const now = current.get(path);
    if (entry.backup === null) {
      if (now !== undefined) unlinkSync(path);
      results.push({ path, outcome: now === undefined ? 'missing' : 'removed', backup: null });
    } else {
      writeFileSync(path, readFileSync(entry.backup));
      unlinkSync(entry.backup);
      results.push({ path, outcome: 'restored', backup: entry.backup });
    }
    delete manifest.files[path];
  }
  writeManifest(manifest);
  return results;
}
