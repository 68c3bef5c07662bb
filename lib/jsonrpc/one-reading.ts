/**
 * What makes a host frame readable one way only. Enforce mode forwards a frame only if every
 * reasonable reader of it — `JSON.parse`, a first-key-wins parser, Go's case-insensitive
 * `encoding/json`, a line reader that also splits on `\r` (the Python SDK, `node:readline`) — sees the
 * same messages as the policy did (docs/policy.md, "One frame, one reading"). The checks here are
 * the ones a frame's bytes and its messages' envelopes need; strict-scan.ts reads the JSON text.
 */
import { isAscii } from 'node:buffer';
import { NULL_ID, type RawId } from './errors.js';
import type { ParsedMessage } from './message.js';
import { CONTROL, foldKey } from './strict-scan.js';

const CR = 0x0d;
/**
 * Characters some line readers split on (Python's `str.splitlines`) that JSON allows raw inside
 * strings, as UTF-8. In valid UTF-8 these byte sequences are those characters and nothing else, so
 * the frame's bytes are searched (natively) instead of its text: an ASCII frame holds none of them.
 */
const LINE_SEPARATORS = ['\u2028', '\u2029', '\u0085'].map((c) => Buffer.from(c, 'utf8'));

/** A raw U+2028, U+2029 or U+0085 in a frame known to be valid UTF-8. */
function hasLineSeparator(frame: Buffer): boolean {
  return !isAscii(frame) && LINE_SEPARATORS.some((bytes) => frame.includes(bytes));
}

/** The members of a JSON-RPC message, by their folded names. */
const ENVELOPE = new Map(['jsonrpc', 'id', 'method', 'params', 'result', 'error'].map((k) => [k, k]));
/** The members of `tools/call` params the policy reads. */
const CALL_PARAMS = new Map(['name', 'arguments', '_meta'].map((k) => [k, k]));

/** Byte-level problems of a frame (without its `\n`), or undefined. */
export function bytesProblem(frame: Buffer, utf8: boolean): string | undefined {
  const cr = frame.indexOf(CR);
  if (cr !== -1 && cr < frame.length - 1)
    return 'a raw \\r inside the frame (some servers split lines on it); send \\r only before the \\n';
  if (!utf8) return 'frame is not valid UTF-8';
  if (hasLineSeparator(frame)) return 'a raw U+2028, U+2029 or U+0085 (some readers split lines on it); escape it as \\u2028';
  return undefined;
}

/** A key whose folded form names a member it is not spelled as (`Method`, `NAME`). */
function caseVariant(object: Record<string, unknown>, names: Map<string, string>): string | undefined {
  for (const key of Object.keys(object)) {
    const canonical = names.get(foldKey(key));
    if (canonical !== undefined && canonical !== key) return `key ${JSON.stringify(key)} differs from "${canonical}" only in case`;
  }
  return undefined;
}

function nameProblem(what: string, value: string): string | undefined {
  if (CONTROL.test(value)) return `${what} has control characters`;
  if (value.trim() !== value) return `${what} has leading or trailing white space`;
  return undefined;
}

/** Envelope problems of one message (a parsed frame or batch element), or undefined. */
export function envelopeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const message = value as Record<string, unknown>;
  const variant = caseVariant(message, ENVELOPE);
  if (variant) return variant;
  const id = message.id;
  // JSON-RPC ids are strings, numbers or null; an object is matched by its text here ({"a":1} and
  // { "a" : 1 } are two ids), while a JSON.stringify upstream answers both as {"a":1}.
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return 'id must be a string, a number or null';
  // 1e400 is Infinity to JSON.parse: a JSON.stringify upstream answers it as "id":null (another
  // request's id), Go refuses the frame, Python reads inf and writes Infinity, not JSON.
  if (typeof id === 'number' && !Number.isFinite(id)) return 'id is a number too large for a double (its answer would carry "id":null)';
  if (!('method' in message)) return undefined;
  const method = message.method;
  if (typeof method !== 'string') return 'method must be a string';
  const bad = nameProblem('method', method);
  if (bad) return bad;
  const params = message.params;
  if (method !== 'tools/call' || params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const call = params as Record<string, unknown>;
  return caseVariant(call, CALL_PARAMS) ?? (typeof call.name === 'string' ? nameProblem('params.name', call.name) : undefined);
}

/** Whether a refused message expects an answer: it has an id (in any spelling) and is not itself an answer. */
export function expectsAnswer(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const folded = Object.keys(value).map(foldKey);
  return folded.includes('id') && !folded.includes('result') && !folded.includes('error');
}

/**
 * The id a refused message is answered with: its own, unless its id is what could be read two ways
 * (`problemKey`, the top-level key the frame's problem is about, or an `ID` spelled otherwise): then null.
 */
export function refusalId(message: ParsedMessage, problemKey?: string): RawId {
  if (problemKey !== undefined && foldKey(problemKey) === 'id') return NULL_ID;
  const idKeys = Object.keys(message.value as object).filter((k) => foldKey(k) === 'id');
  return idKeys.length === 1 && idKeys[0] === 'id' ? message.rawId : NULL_ID;
}
