/**
 * Finds a Chromium for the browser tests by itself, so `npm install` then `npm test` pass on a fresh
 * machine with nothing installed by hand: the one named by the CHROMIUM environment variable, else
 * a system one on PATH (`chromium`, `chromium-browser`, `google-chrome`), else the binary that the dev
 * dependency @sparticuz/chromium ships inside its package, unpacked once into a folder of the temp
 * folder named for its version (see `unpackBundled`).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The system browsers looked for on PATH, in this order. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

/**
 * Flags for a headless run on a machine without a display or outside network (and as root, where
 * Chromium's sandbox cannot start): without the background-networking ones Chromium keeps trying
 * hosts the machine cannot reach.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
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

/** The folder holding @sparticuz/chromium's package.json, and its version. */
function bundledPackage(): { dir: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.resolve('@sparticuz/chromium')));
  while (!existsSync(join(dir, 'package.json')) || !readFileSync(join(dir, 'package.json'), 'utf8').includes('"@sparticuz/chromium"')) {
    if (dirname(dir) === dir) throw new Error('@sparticuz/chromium: its package.json is not found');
    dir = dirname(dir);
  }
  return { dir, version: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version };
}

/**
 * Unpacks @sparticuz/chromium's binary once, whole or not at all. The package writes it (and the
 * swiftshader libraries beside it) straight into the temp folder, where a second test process could
 * launch a half-written file and a killed run would leave one behind; so it unpacks in a child
 * process whose temp folder is a fresh private one, which is then renamed (atomically) to a folder
 * named for the version. A process that loses the race to rename uses the winner's.
 */
async function unpackBundled(): Promise<string> {
  const { dir, version } = bundledPackage();
  const target = join(tmpdir(), `ratri-chromium-${version}-${userInfo().uid}`);
  if (isExecutableFile(join(target, 'chromium'))) return join(target, 'chromium');
  const staging = mkdtempSync(join(tmpdir(), 'ratri-chromium-unpack-'));
  try {
    const script = `import(${JSON.stringify(import.meta.resolve('@sparticuz/chromium'))}).then((m) => m.default.executablePath())`;
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { ...process.env, TMPDIR: staging },
    });
    if (!isExecutableFile(join(staging, 'chromium')))
      throw new Error(`@sparticuz/chromium ${version} did not unpack a chromium into ${staging}`);
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!isExecutableFile(join(target, 'chromium'))) throw err;
  }
  return join(target, 'chromium');
}

/** A Chromium to launch: the system one when there is one, else @sparticuz/chromium's. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  const system = findSystemChromium(env);
  if (system) return system;
  try {
    return { executablePath: await unpackBundled(), source: '@sparticuz/chromium' };
  } catch (err) {
    throw new Error(
      `no Chromium: none named by CHROMIUM, none of ${CHROMIUM_NAMES.join(', ')} on PATH, and the dev dependency ` +
        `@sparticuz/chromium could not be unpacked (${(err as Error).message}); run npm install, or set CHROMIUM=/path/to/chromium`,
    );
  }
}
