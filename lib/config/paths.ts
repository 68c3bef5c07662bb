/** Paths written in a config file: `~/` is the home folder, and relative paths start at the config's folder. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveConfigPath(baseDir: string, path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return resolve(baseDir, path);
}

/** Ratri's own folder: `$RATRI_HOME`, else `~/.ratri`. */
export function ratriHome(): string {
  // Made absolute once, so processes started in different folders agree on it.
  return process.env.RATRI_HOME ? resolve(process.env.RATRI_HOME) : join(homedir(), '.ratri');
}

/** Where the embedded store lives when the config does not say: `<ratri home>/ratri.db`. */
export function defaultStorePath(): string {
  return join(ratriHome(), 'ratri.db');
}
