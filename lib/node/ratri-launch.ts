/**
 * How a host should start ratri: the absolute path of the running `node` and of ratri's own CLI
 * file, so the entry works from any working directory and with any PATH the host gives it
 * (docs/hosts.md#2-the-command-the-host-runs). `ratri init` writes it, `ratri doctor` prints it, and
 * both recognise an entry that already starts ratri.
 */
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { packageRoot } from './package-files.js';

/** The CLI file the host runs: dist/cli/ratri.js of this package, symlinks resolved. */
export function ratriCliFile(): string {
  const file = join(packageRoot, 'dist', 'cli', 'ratri.js');
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** The `command` and `args` that run `ratri mcp proxy --config FILE [--server NAME]`. */
export function ratriLaunch(configPath: string, server?: string): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [ratriCliFile(), 'mcp', 'proxy', '--config', configPath, ...(server !== undefined ? ['--server', server] : [])],
  };
}

/** Why the launch may stop working later (ratri run from npx's cache), or undefined. */
export function launchCaveat(): string | undefined {
  const file = ratriCliFile();
  if (/[\\/]_npx[\\/]/.test(file))
    return `ratri runs from npx's cache (${file}), which npm may clear: install it (npm install -g ratri) and run ratri init again`;
  return undefined;
}

const RATRI_WORD = /^ratri(?:\.js|\.cmd|\.mjs)?(?:@.*)?$/;

/** What an entry that starts `ratri mcp proxy` runs (its --config and --server), else undefined. */
export function ratriLaunched(command: string, args: readonly string[]): { config?: string; server?: string } | undefined {
  for (let i = 0; i + 1 < args.length; i++) {
    if (args[i] !== 'mcp' || args[i + 1] !== 'proxy') continue;
    const runner = i === 0 ? command : args[i - 1]!;
    if (!RATRI_WORD.test(basename(runner))) continue;
    const value = (...names: string[]): string | undefined => {
      const j = args.findIndex((a, k) => k > i && names.includes(a));
      return j === -1 ? undefined : args[j + 1];
    };
    return { config: value('--config', '-c'), server: value('--server') };
  }
  return undefined;
}
