/**
 * Finds a Chromium for the browser tests by itself, so `npm install` then `npm test` pass on a fresh
 * machine with nothing installed by hand: the one named by the CHROMIUM environment variable, else
 * a system one on PATH (`chromium`, `chromium-browser`, `google-chrome`), else the binary that the dev
 * dependency @sparticuz/chromium ships inside its package (unpacked to the temp folder on first use).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The system browsers looked for on PATH, in this order. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

/**
 * Flags for a headless run on a machine without a display or outside network (and as root, where
 * Chromium's sandbox cannot start): without the background-networking ones Chromium keeps trying
 * hosts the machine cannot reach.
 */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface FoundChromium {
  executablePath: string;
  /** Where it came from, for messages: "CHROMIUM", "PATH" or "@sparticuz/chromium". */
  source: string;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found as an executable file in one of PATH's folders. */
export function findOnPath(names: readonly string[], path = process.env.PATH ?? ''): string | undefined {
  const dirs = path.split(delimiter).filter(Boolean);
  for (const name of names) {
    const dir = dirs.find((d) => isExecutableFile(join(d, name)));
    if (dir) return join(dir, name);
  }
  return undefined;
}

/** The CHROMIUM variable or a system Chromium on PATH, without the bundled fallback. */
export function findSystemChromium(env: NodeJS.ProcessEnv = process.env): FoundChromium | undefined {
  const named = env.CHROMIUM;
  if (named) {
    if (!isExecutableFile(named)) throw new Error(`CHROMIUM=${named}: no executable file there; point it at a Chromium or unset it`);
    return { executablePath: named, source: 'CHROMIUM' };
  }
  const onPath = findOnPath(CHROMIUM_NAMES, env.PATH);
  return onPath ? { executablePath: onPath, source: 'PATH' } : undefined;
}

/** A Chromium to launch: the system one when there is one, else @sparticuz/chromium's. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  const system = findSystemChromium(env);
  if (system) return system;
  let bundled: typeof import('@sparticuz/chromium').default;
  try {
    bundled = (await import('@sparticuz/chromium')).default;
  } catch (err) {
    throw new Error(
      `no Chromium: none named by CHROMIUM, none of ${CHROMIUM_NAMES.join(', ')} on PATH, and the dev dependency ` +
        `@sparticuz/chromium does not load (${(err as Error).message}); run npm install, or set CHROMIUM=/path/to/chromium`,
    );
  }
  return { executablePath: await bundled.executablePath(), source: '@sparticuz/chromium' };
}
