/** The options every control-plane command shares: which store (or config) it works on. */
import type { Argv } from 'yargs';
import { ConfigError } from '../lib/config/load-config.js';
import type { LocalControlPlane } from '../lib/control/local-control-plane.js';
import {
  type ChosenControlPlane,
  type ControlPlaneChoice,
  openChosenControlPlane,
  openChosenStore,
} from '../lib/control/open-control-plane.js';
import { stderrLine } from '../lib/report/visible-text.js';

export interface StoreArgs {
  store?: string;
  config?: string;
  server?: string;
  json?: boolean;
}

export function withStoreOptions<T>(y: Argv<T>): Argv<T & StoreArgs> {
  return y
    .middleware(quietWhenReaderLeaves)
    .option('store', { type: 'string', describe: 'SQLite store to use (default: $RATRI_HOME/ratri.db, else ~/.ratri/ratri.db)' })
    .option('config', { alias: 'c', type: 'string', describe: 'Use the store (or remote API) this ratri.mcp.json names' })
    .option('server', { type: 'string', describe: 'With --config: which entry of "servers"' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON for scripts instead of a table' }) as Argv<T & StoreArgs>;
}

/**
 * A listing piped into a reader that stops early (`ratri events | head -1`): the reader has what it
 * wanted, so the command ends quietly with 0, as other command-line tools do, instead of an EPIPE
 * stack trace. Only for these commands: the proxy handles its host going away itself.
 */
function quietWhenReaderLeaves(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Prints `ratri: <message>` and exits with `code` (1: the command failed; 2: it was used wrongly). */
export function fail(message: string, code = 1): never {
  process.stderr.write(stderrLine('ratri', message));
  process.exit(code);
}

/** A control plane that could not be opened: a bad config is a usage error (2), anything else a failure (1). */
export function failOpening(err: unknown): never {
  fail((err as Error).message, err instanceof ConfigError ? 2 : 1);
}

/** Colour only on a terminal, and never when NO_COLOR is set. */
export const colourOn = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

/** The embedded store `command` works on (`--store`, `--config`, or the default); exits with the reason when it cannot be opened. */
export function openStoreOrExit(choice: ControlPlaneChoice, command: string): LocalControlPlane {
  try {
    return openChosenStore(choice, command);
  } catch (err) {
    failOpening(err);
  }
}

/**
 * Runs `work` on the control plane the options name (the store, or a config's remote API; with
 * `approverKey` sent where an approver's key is wanted) and closes it; exits with the reason when it
 * cannot be opened or `work` fails.
 */
export async function withPlane<T>(args: StoreArgs, work: (plane: ChosenControlPlane) => Promise<T>, approverKey?: string): Promise<T> {
  let plane: ChosenControlPlane;
  try {
    plane = openChosenControlPlane({ ...args, approverKey });
  } catch (err) {
    failOpening(err);
  }
  try {
    return await work(plane);
  } catch (err) {
    fail(`${plane.location}: ${(err as Error).message}`);
  } finally {
    await plane.close(1000);
  }
}
