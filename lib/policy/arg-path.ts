/**
 * Argument paths, the keys of a rule's `args` (docs/policy.md#args): `path`, `options.target.path`,
 * `files.0`, and the wildcards `*` (one level: any key or array index) and `**` (any depth). A path
 * can reach several values; a rule looks at every one of them, because the upstream may read any.
 * Keys are matched under case folding, as a Go server reads them.
 */
import { foldKey } from '../jsonrpc/strict-scan.js';

const ANY = Symbol('*');
const DEEP = Symbol('**');
type Segment = string | typeof ANY | typeof DEEP;

/**
 * How deep a path (and an array inside a value) is followed. A value nested deeper is not looked
 * into: the test counts as passed, so a rule matches (refuses) rather than let it through unread.
 */
export const MAX_DEPTH = 64;

export type ValueTest = (value: unknown) => boolean;

/** A compiled argument path: whether some value it reaches in a call's arguments passes a test. */
export type ArgPath = (args: Record<string, unknown>, test: ValueTest) => boolean;

const own = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

/** Why a path cannot be used, or undefined. */
export function argPathProblem(path: string): string | undefined {
  const parts = path.split('.');
  const partial = parts.find((p) => p.includes('*') && p !== '*' && p !== '**');
  if (partial !== undefined) return `segment "${partial}": a wildcard is a whole segment, "*" (any one key or index) or "**" (any depth)`;
  if (parts.some((p, i) => p === '**' && parts[i + 1] === '**')) return '"**.**" says "**" twice: write "**" once';
  return undefined;
}

function segmentsOf(path: string): Segment[] {
  return path.split('.').map((p) => (p === '*' ? ANY : p === '**' ? DEEP : p));
}

/** The top-level argument names a path can reach, or undefined when it starts with a wildcard (any). */
export function topLevelNames(path: string): string[] | undefined {
  const first = segmentsOf(path)[0];
  if (typeof first !== 'string') return undefined;
  return first === path ? [path] : [path, first];
}

/**
 * Whether some child of `value` under `key` passes `test`. Object keys are compared under case
 * folding, as Go's `encoding/json` matches them: a rule on `path` also sees `"Path"`. (Enforce mode
 * refuses an object with two keys equal under folding, so there is one such child; monitor mode
 * may see several, and tests each.)
 */
function someChildAt(value: unknown, key: string, test: ValueTest): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return /^(0|[1-9][0-9]*)$/.test(key) && value[Number(key)] !== undefined && test(value[Number(key)]);
  const folded = foldKey(key);
  for (const k in value) {
    if (own(value, k) && (k === key || foldKey(k) === folded) && test((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

function someChild(value: unknown, test: ValueTest): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(test);
  for (const key in value) if (own(value, key) && test((value as Record<string, unknown>)[key])) return true;
  return false;
}

function someFrom(value: unknown, segments: Segment[], i: number, depth: number, test: ValueTest): boolean {
  if (depth > MAX_DEPTH) return true;
  if (i === segments.length) return test(value);
  const segment = segments[i]!;
  if (segment === ANY) return someChild(value, (child) => someFrom(child, segments, i + 1, depth + 1, test));
  if (segment === DEEP) {
    // A trailing `**` reaches the values that are not objects or arrays, at any depth below.
    if (i === segments.length - 1) {
      return value !== null && typeof value === 'object'
        ? someChild(value, (child) => someFrom(child, segments, i, depth + 1, test))
        : test(value);
    }
    return someFrom(value, segments, i + 1, depth, test) || someChild(value, (child) => someFrom(child, segments, i, depth + 1, test));
  }
  return someChildAt(value, segment, (child) => someFrom(child, segments, i + 1, depth + 1, test));
}

/**
 * Compiles a path. Without wildcards, a path with dots reaches both the key spelt with those dots
 * (`{"a.b": …}`) and the nested value (`{"a": {"b": …}}`): either could be what the upstream reads.
 */
export function compileArgPath(path: string): ArgPath {
  const segments = segmentsOf(path);
  const literal = segments.length > 1 && segments.every((s) => typeof s === 'string');
  return (args, test) => (literal && someChildAt(args, path, test)) || someFrom(args, segments, 0, 0, test);
}
