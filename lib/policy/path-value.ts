/**
 * Reads an argument as the file path an upstream will open, for the `under` and `notUnder` matchers
 * (docs/policy.md#paths-under-and-notunder): POSIX rules, `.` and `..` resolved, `//` collapsed, a
 * trailing slash dropped, a relative path resolved against the matcher's `base`. A text whose
 * meaning depends on the upstream reads as no path at all, and the matcher then refuses it.
 */
import { posix } from 'node:path';

export interface PathOptions {
  /** Absolute folder a relative path starts from; without it, a relative path is not read. */
  base?: string;
  /** Compare lower-cased and in Unicode NFC (case-insensitive file systems: macOS, Windows). */
  caseInsensitive?: boolean;
}

/**
 * Texts an upstream may read in more than one way: a NUL byte (C code stops there), a backslash (a
 * separator on Windows), `%XX` (decoded by some servers), and, at the start, `~` (the home folder to
 * some servers) or `letters:` (a URL such as `file:///etc`, or a drive such as `C:`).
 */
const AMBIGUOUS = /[\0\\]|%[0-9A-Fa-f]{2}|^~|^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Why a configured folder (`under`, `notUnder`, `base`) cannot be used, or undefined. */
export function folderProblem(folder: string): string | undefined {
  if (!folder.startsWith('/')) return 'must be an absolute path starting with "/" (nothing in it is expanded, not even "~")';
  if (/[\0\\]/.test(folder)) return 'must not contain a NUL byte or a backslash';
  return undefined;
}

function fold(path: string, options: PathOptions): string {
  return options.caseInsensitive ? path.normalize('NFC').toLowerCase() : path;
}

/** A configured folder, normalised as values are. */
export function normaliseFolder(folder: string, options: PathOptions): string {
  return fold(posix.resolve(folder), options);
}

/** The absolute, normalised path a text stands for, or undefined when it cannot be told. */
export function readPath(text: string, options: PathOptions): string | undefined {
  if (AMBIGUOUS.test(text)) return undefined;
  if (text.startsWith('/')) return fold(posix.resolve(text), options);
  return options.base === undefined ? undefined : fold(posix.resolve(options.base, text), options);
}

/** Whether a normalised path is the folder or inside it (`/etc` holds `/etc/x`, not `/etcetera`). */
export function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder === '/' ? '/' : `${folder}/`);
}
