/**
 * The strict reading of a host frame: one pass over JSON text (already accepted by `JSON.parse`)
 * that finds what other JSON readers would read differently, so enforce mode can refuse it
 * (docs/policy.md, "One frame, one reading"):
 *  - the same key twice in one object (`JSON.parse` keeps the last, many parsers the first),
 *  - two keys of one object equal under case folding (Go's `encoding/json` matches keys that way),
 *  - nesting deeper than MAX_DEPTH (recursive readers overflow their stack),
 *  - unpaired UTF-16 surrogate escapes (`"\ud800"`: kept, replaced or rejected, reader by reader),
 *  - control characters in a key, and a NUL in any string (a C reader ends the string there).
 * It also records what the proxy needs of the original text: the raw text of top-level members (a
 * request id is echoed back exactly as sent) and the spans of top-level array elements (a filtered
 * batch is rebuilt from original bytes).
 */
import { skipString, TopLevelCollector } from './json-scan.js';
import { foldKey } from './key-fold.js';

export { foldKey };

/** Deepest nesting of objects and arrays a host frame may have. */
export const MAX_DEPTH = 64;

export interface StrictScan {
  /** Top-level object members: key → raw value text (last occurrence wins, as in JSON.parse). */
  members: Map<string, string>;
  /** Top-level array elements as [start, end) offsets into the text. */
  elements: Array<[number, number]>;
  /** Why another reader could read this text differently; undefined when none could. */
  problem?: string;
  /** Set when the problem is a top-level key's: that key (`"id"` twice leaves no id to answer with). */
  problemKey?: string;
}

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const BACKSLASH_U = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** C0 and C1 control characters (NUL, ESC, …). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function show(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

interface ObjectState {
  /** The object's keys so far: a list while it has few, a Set once it has more (duplicates are looked up in it). */
  keys: string[] | Set<string>;
  folds: Map<string, string> | undefined;
  expectKey: boolean;
}

/** Objects with more keys than this look keys up in a Set (a list costs less for the few keys most objects have). */
const LISTED_KEYS = 8;

/** Adds a key to the object's keys; false when the object has it already. */
function addNewKey(object: ObjectState, key: string): boolean {
  const keys = object.keys;
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return false;
    keys.push(key);
    if (keys.length > LISTED_KEYS) object.keys = new Set(keys);
    return true;
  }
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

/** An upper-case ASCII letter or any character beyond ASCII: a key with neither is its own fold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII
const FOLDS_DIFFERENTLY = /[A-Z]|[^\x00-\x7f]/;

/**
 * Checks one key of an object; returns the problem it makes, if any. Two keys that are each their
 * own fold fold alike only when they are equal, which the duplicate check finds; so the folds are
 * kept only from the first key that folds to something else (most objects never need them).
 */
function addKey(object: ObjectState, key: string): string | undefined {
  if (!addNewKey(object, key)) return `duplicate key ${show(key)} in one object`;
  if (!object.folds) {
    if (!FOLDS_DIFFERENTLY.test(key)) return undefined;
    object.folds = new Map();
    for (const earlier of object.keys) if (earlier !== key) object.folds.set(earlier, earlier); // each its own fold
  }
  const folded = foldKey(key);
  const other = object.folds.get(folded);
  if (other !== undefined) return `keys ${show(other)} and ${show(key)} differ only in case`;
  object.folds.set(folded, key);
  return undefined;
}

export function strictScan(text: string): StrictScan {
  const top = new TopLevelCollector(text);
  const stack: Array<ObjectState | undefined> = []; // undefined: an array
  let topKey: string | undefined;
  const result: StrictScan = { members: top.members, elements: top.elements };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(text, i);
      const raw = text.slice(i, end);
      const hasEscape = raw.includes('\\');
      const object = stack[stack.length - 1];
      if (object?.expectKey) {
        const key = hasEscape ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (hasEscape && LONE_SURROGATE.test(key)) result.problem = `key ${show(key)} has an unpaired surrogate escape`;
        else if (hasEscape && CONTROL.test(key)) result.problem = `key ${show(key)} has control characters`;
        result.problem ??= addKey(object, key);
        if (result.problem && stack.length === 1) result.problemKey = key;
        object.expectKey = false;
        if (stack.length === 1) topKey = key;
      } else if (hasEscape && BACKSLASH_U.test(raw) && LONE_SURROGATE.test(JSON.parse(raw) as string)) {
        result.problem = 'a string has an unpaired surrogate escape (\\ud800-\\udfff)';
      } else if (hasEscape && raw.includes('u0000') && (JSON.parse(raw) as string).includes('\0')) {
        result.problem = 'a string has a NUL (a C reader ends it there)';
      }
      if (result.problem) return result;
      i = end - 1;
    } else if (c === COLON) {
      if (stack.length === 1 && topKey !== undefined) top.member(topKey, i);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length === 0) top.open(c, i);
      if (stack.length >= MAX_DEPTH) {
        result.problem = `nested deeper than ${MAX_DEPTH} levels`;
        return result;
      }
      stack.push(c === OPEN_OBJECT ? { keys: [], folds: undefined, expectKey: true } : undefined);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      if (stack.length === 0) top.end(i, false);
    } else if (c === COMMA) {
      const object = stack[stack.length - 1];
      if (object) object.expectKey = true;
      if (stack.length === 1) top.end(i, true);
    }
  }
  return result;
}
