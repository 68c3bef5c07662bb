/**
 * Re-reads the keys file of `ratri serve` when it changes, so keys rotate without a restart
 * (docs/api.md, "Rotating a key"). fs.watch on the file's folder (an atomic rename replaces the
 * file, so watching the file itself would lose it) starts a check soon after a change; a check every
 * second catches file systems where fs.watch says nothing. A check reads the file only when its
 * mtime, size or inode moved. A file that became unusable keeps the keys last read, and says why
 * once: it never falls open.
 */
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type EnvironmentKeys, KeyRing } from './key-ring.js';
import { type KeyEntry, readKeysFile } from './keys-file.js';

/** How long after a change event the file is read (writers may send several). */
const DEBOUNCE_MS = 100;
/** How often the file is checked whatever fs.watch says. */
const POLL_MS = 1_000;

/** How the file looks from outside: when this moves, it is read again. */
function signature(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.mode}` : 'missing';
}

/**
 * Calls `use` with the file's keys each time they change (`use` may throw to refuse them: the
 * keys before stay). The file as it is now counts as read.
 */
export function watchKeysFile(path: string, use: (keys: KeyEntry[]) => void, log: (message: string) => void): { close(): void } {
  let seen = signature(path);
  let problem: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const check = (): void => {
    const now = signature(path);
    if (now === seen) return;
    seen = now;
    try {
      const keys = readKeysFile(path);
      use(keys);
      problem = undefined;
      log(`keys file ${path} re-read: ${keys.length} key${keys.length === 1 ? '' : 's'} (${keys.map((k) => k.id).join(', ') || 'none'})`);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== problem) log(`${message}; still using the keys read before`);
      problem = message;
    }
  };
  // The debounce's own timer: the poll's checks leave it alone, so close() can always clear it.
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      check();
    }, DEBOUNCE_MS);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === null || name === basename(path)) soon();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No fs.watch here: the poll below still sees every change, within a second.
  }
  const poll = setInterval(check, POLL_MS);
  poll.unref();
  return {
    close(): void {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The key ring of `ratri serve`: the environment's keys, and the keys file's when `path` is given,
 * followed as it changes. A KeysFileError when the file cannot be used at start.
 */
export function servedKeyRing(
  env: EnvironmentKeys,
  path: string | undefined,
  log: (message: string) => void,
): { ring: KeyRing; close(): void } {
  const ring = new KeyRing(env, path !== undefined);
  if (path === undefined) return { ring, close: () => undefined };
  ring.replaceFileKeys(readKeysFile(path), path);
  return { ring, ...watchKeysFile(path, (keys) => ring.replaceFileKeys(keys, path), log) };
}
