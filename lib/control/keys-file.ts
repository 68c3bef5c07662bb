/**
 * The keys file of `ratri serve` (`--keys FILE`, docs/api.md "Keys for teams"): the proxy and
 * approver keys a team hands out, each with an id and the agents it is bound to. It holds only the
 * SHA-256 of each key, so nothing secret is on disk; `ratri serve keys add` makes a key, prints it
 * once and writes its hash. Reading validates against schemas/serve-keys.schema.json and says which
 * field is wrong and how to fix it; writing is atomic (a new 0600 file renamed over the old one), so
 * a `ratri serve` re-reading it never sees half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readSchema } from '../node/package-files.js';
import { openPrivateFile } from '../node/private-files.js';
import { describeSchemaError, fieldPath } from './api-validate.js';

export type KeyRole = 'proxy' | 'approver';

/** One key of the file. */
export interface KeyEntry {
  id: string;
  role: KeyRole;
  /** The agents it may act for; absent (approver keys only): every agent. */
  agentKeys?: string[];
  /** SHA-256 of the key, lowercase hex. */
  sha256: string;
  createdAt?: string;
}

/** A keys file that cannot be used, with the field and the fix in the message. */
export class KeysFileError extends Error {}

/** How long a writer waits for another writer's lock before giving up. */
const LOCK_WAIT_MS = 3_000;

let validator: ValidateFunction | undefined;

export const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

function schemaProblem(error: ErrorObject): string {
  if (error.keyword !== 'pattern') return describeSchemaError(error);
  const at = fieldPath(error.instancePath);
  return at.endsWith('sha256')
    ? `${at}: must be 64 lowercase hex digits, the SHA-256 of the key (ratri serve keys add writes it)`
    : `${at}: must be 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`;
}

/** What is wrong beyond the schema: proxy keys without agents, ids or keys given twice. */
function meaningProblems(keys: KeyEntry[]): string[] {
  const problems: string[] = [];
  keys.forEach((key, i) => {
    if (key.role === 'proxy' && !key.agentKeys) {
      problems.push(`keys[${i}].agentKeys: is required for a proxy key; list the agentKey(s) of the proxies that use it`);
    }
    const sameId = keys.findIndex((k) => k.id === key.id);
    if (sameId < i) problems.push(`keys[${i}].id: "${key.id}" is also the id of keys[${sameId}]; give each key its own id`);
    const sameKey = keys.findIndex((k) => k.sha256 === key.sha256);
    if (sameKey < i) {
      problems.push(
        `keys[${i}].sha256: the same key as keys[${sameKey}] ("${keys[sameKey]!.id}"); give each a key of its own (ratri serve keys add makes one)`,
      );
    }
  });
  return problems;
}

/** The keys of a file's text; a KeysFileError naming each problem otherwise. */
export function parseKeys(text: string, path: string): KeyEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new KeysFileError(`keys file ${path}: is not valid JSON (${(err as Error).message})`);
  }
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(readSchema('serve-keys.schema.json'));
  const problems = validator(value)
    ? meaningProblems((value as { keys: KeyEntry[] }).keys)
    : [...new Set((validator.errors ?? []).map(schemaProblem))];
  if (problems.length > 0) throw new KeysFileError(`keys file ${path}: ${problems.join('; ')}`);
  return (value as { keys: KeyEntry[] }).keys;
}

/**
 * Reads and checks the keys file. Anyone who may write it may add a key, so a file other users may
 * write is refused as well.
 */
export function readKeysFile(path: string): KeyEntry[] {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if (mode & 0o022) {
      throw new KeysFileError(
        `keys file ${path}: other users may write it (mode ${(mode & 0o777).toString(8)}), so they could add a key; fix: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof KeysFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const fix = code === 'ENOENT' ? '; create it with "ratri serve keys add --keys FILE …"' : '';
    throw new KeysFileError(`keys file ${path}: cannot be read (${code ?? (err as Error).message})${fix}`);
  }
  return parseKeys(text, path);
}

/** Writes the file whole: a new 0600 file next to it, synced, then renamed over it. */
function writeKeysFile(path: string, keys: KeyEntry[]): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openPrivateFile(temporary, 'w', { tighten: true });
  try {
    writeSync(fd, `${JSON.stringify({ keys }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** Runs `change` on the file's keys with the file locked against other writers, and writes the result. */
function changeKeysFile(path: string, change: (keys: KeyEntry[]) => KeyEntry[]): void {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) {
        throw new KeysFileError(`${lock} exists: another "ratri serve keys" is changing ${path}; if none runs, remove ${lock}`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    const keys = statSync(path, { throwIfNoEntry: false }) ? readKeysFile(path) : [];
    writeKeysFile(path, change(keys));
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Makes a new key, writes its hash to the file (made when missing) and returns the key itself. */
export function addKey(path: string, entry: { id: string; role: KeyRole; agentKeys?: string[] }): string {
  const key = `ratri_${entry.role === 'proxy' ? 'pk' : 'ak'}_${randomBytes(32).toString('hex')}`;
  const added: KeyEntry = { ...entry, sha256: keyHash(key), createdAt: new Date().toISOString() };
  changeKeysFile(path, (keys) => {
    if (keys.some((k) => k.id === entry.id)) {
      throw new KeysFileError(`keys file ${path}: there is a key "${entry.id}" already; pick another --id, or remove it first`);
    }
    const next = [...keys, added];
    parseKeys(JSON.stringify({ keys: next }), path);
    return next;
  });
  return key;
}

/** Removes the key `id`; a KeysFileError when there is none. */
export function removeKey(path: string, id: string): KeyEntry {
  let removed: KeyEntry | undefined;
  changeKeysFile(path, (keys) => {
    removed = keys.find((k) => k.id === id);
    if (!removed) {
      const ids = keys.map((k) => k.id).join(', ') || 'none';
      throw new KeysFileError(`keys file ${path}: there is no key "${id}" (its keys: ${ids})`);
    }
    return keys.filter((k) => k !== removed);
  });
  return removed!;
}
