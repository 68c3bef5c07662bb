/** Paths written in a config file: `~/` is the home folder, and relative paths start at the config's folder. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveConfigPath(baseDir: string, path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return resolve(baseDir, path);
}
