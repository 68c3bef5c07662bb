/**
 * Five ways a real MCP server may read one frame, for the differential fuzzer
 * (tests/e2e/fuzz-differential.test.ts). The proxy is only safe if the frame it forwards means the
 * same to all of them as it meant to its policy:
 *  - `lastKey`: `JSON.parse` (the TypeScript SDK): of duplicate keys, the last wins;
 *  - `firstKey`: a parser that keeps the first of duplicate keys (several parsers in other languages do);
 *  - `goFold`: Go's `encoding/json` decoding into structs: a key matches a field case-insensitively
 *    (folded as `unicode.ToUpper(unicode.ToLower(r))`, so `ſ` is `s` and the Kelvin sign `K` is `k`), and
 *    of several matching keys the last wins. `method`, `params.name` and `params.arguments` are read
 *    that way, and the arguments as structs too (their keys folded). Like Go, it reads an unpaired
 *    surrogate escape (`"\ud800"`) as U+FFFD;
 *  - `lineSplit`: a line reader that ends lines at `\r`, `\n` and `\r\n` (node:readline, Python's
 *    universal newlines) and also at U+2028, U+2029, U+0085 (Python's `str.splitlines`), decoding
 *    bytes that are not UTF-8 as Python's surrogateescape does (byte 0xNN becomes U+DCNN), then
 *    parsing each line as Python's `json` does: as `JSON.parse`, except that nesting deeper than its
 *    recursion limit (1000) is an error.
 *  - `cString`: a C reader such as cJSON: a string (key or value) ends at its first NUL (`\u0000` is
 *    decoded into a C string), and a member is found by the first key equal to its name with ASCII
 *    letters in either case (`cJSON_GetObjectItem`); the arguments are read the same way.
 * Each reader gives, per frame, one reading per message it found (batch elements and lines included).
 */
import { isUtf8 } from 'node:buffer';
import { canonicalText } from './canonical-json.js';
import { buildValue, type JsonScalar, type JsonTree, nestingDepth, objectOf, parseMembers, treeValue } from './json-members.js';

/** What the policy reads of one message: its method, and for a tools/call the tool name and arguments. */
export type Reading =
  | { kind: 'message'; method: unknown; name?: unknown; arguments?: unknown }
  | { kind: 'not-an-object' }
  | { kind: 'invalid-json' };

export type ReaderName = 'lastKey' | 'firstKey' | 'goFold' | 'lineSplit' | 'cString';
export const readerNames: ReaderName[] = ['lastKey', 'firstKey', 'goFold', 'lineSplit', 'cString'];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A reading of a plain parsed value (last or first key wins). */
function readingOf(value: unknown): Reading {
  if (!isObject(value)) return { kind: 'not-an-object' };
  if (value.method !== 'tools/call') return { kind: 'message', method: value.method };
  const params = isObject(value.params) ? value.params : {};
  return { kind: 'message', method: value.method, name: params.name, arguments: params.arguments };
}

/** Readings of one JSON text: one per batch element, one for a single message, none for blank text. */
function readText(text: string, parse: (text: string) => Reading[]): Reading[] {
  if (text.trim() === '') return [];
  try {
    return parse(text);
  } catch {
    return [{ kind: 'invalid-json' }];
  }
}

function readValue(value: unknown, one: (v: unknown) => Reading): Reading[] {
  return Array.isArray(value) ? value.map(one) : [one(value)];
}

function treeReadings(text: string, one: (tree: JsonTree) => Reading): Reading[] {
  const tree = parseMembers(text);
  return tree.kind === 'array' ? tree.items.map(one) : [one(tree)];
}

/** Go's key folding: ASCII letters upper-cased, other runes `ToUpper(ToLower(r))` (simple mappings). */
export function goFoldKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch < '\u0080') out += ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    else out += simpleCase(simpleLower(ch), (c) => c.toUpperCase());
  }
  return out;
}

/**
 * Unicode's simple lower-case mapping. JavaScript's is the full one; the only rune whose full
 * mapping is longer while a simple one exists is U+0130 (İ), whose simple lower case is a plain `i`.
 */
const simpleLower = (ch: string): string => (ch === '\u0130' ? 'i' : simpleCase(ch, (c) => c.toLowerCase()));

/** A one-rune case mapping: JavaScript's mapping when it gives one rune, else the rune itself (as Go's simple mapping). */
function simpleCase(ch: string, map: (c: string) => string): string {
  const mapped = map(ch);
  return [...mapped].length === 1 ? mapped : ch;
}

/** The value of the last member whose key folds to the same as `field` (how Go fills a struct field). */
function goField(tree: JsonTree, field: string): JsonTree | undefined {
  if (tree.kind !== 'object') return undefined;
  const folded = goFoldKey(field);
  let found: JsonTree | undefined;
  for (const [key, value] of tree.members) if (goFoldKey(goString(key)) === folded) found = value;
  return found;
}

/** Go decodes an unpaired surrogate escape as U+FFFD. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const goString = (s: string): string => s.replace(UNPAIRED_SURROGATE, '\ufffd');
const goScalar = (v: JsonScalar): unknown => (typeof v === 'string' ? goString(v) : v);

/** A value read as Go structs read it: object keys folded, the last of equal folded keys wins. */
export function goValue(tree: JsonTree): unknown {
  return buildValue(
    tree,
    (members) =>
      objectOf(
        members.map(([key, value]) => [goFoldKey(goString(key)), value]),
        'last',
      ),
    goScalar,
  );
}

/** A value read as Go reads it into a plain field (a string, not a struct): no keys folded. */
const goPlain = (tree: JsonTree): unknown => buildValue(tree, (members) => objectOf(members, 'last'), goScalar);

/** A reading by a reader that finds members by name (`field`), as Go and C readers do. */
function lookupReading(
  tree: JsonTree,
  field: (t: JsonTree, name: string) => JsonTree | undefined,
  plain: (t: JsonTree) => unknown,
  args: (t: JsonTree) => unknown,
): Reading {
  if (tree.kind !== 'object') return { kind: 'not-an-object' };
  const method = field(tree, 'method');
  const methodValue = method ? plain(method) : undefined;
  if (methodValue !== 'tools/call') return { kind: 'message', method: methodValue };
  const params = field(tree, 'params');
  const name = params && field(params, 'name');
  const found = params && field(params, 'arguments');
  return { kind: 'message', method: methodValue, name: name && plain(name), arguments: found && args(found) };
}

const goReading = (tree: JsonTree): Reading => lookupReading(tree, goField, goPlain, goValue);

/** A C string ends at its first NUL. */
const cString = (s: string): string => {
  const nul = s.indexOf('\u0000');
  return nul === -1 ? s : s.slice(0, nul);
};
/** How cJSON compares a key with a member's name: as a C string, ASCII letters in either case. */
export const cKey = (key: string): string => cString(key).replace(/[A-Z]/g, (c) => c.toLowerCase());
const cScalar = (v: JsonScalar): unknown => (typeof v === 'string' ? cString(v) : v);
/** A value read by a C reader: strings cut at NUL, object keys compared as cKey, the first of equal keys found. */
export const cValue = (tree: JsonTree): unknown =>
  buildValue(
    tree,
    (members) =>
      objectOf(
        members.map(([key, value]) => [cKey(key), value]),
        'first',
      ),
    cScalar,
  );

function cField(tree: JsonTree, field: string): JsonTree | undefined {
  return tree.kind === 'object' ? tree.members.find(([key]) => cKey(key) === field)?.[1] : undefined;
}

const cReading = (tree: JsonTree): Reading => lookupReading(tree, cField, cValue, cValue);

/** Bytes as text, each byte that is not part of valid UTF-8 becoming U+DC80..U+DCFF (Python's surrogateescape). */
export function decodeSurrogateEscape(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const n = validSequenceLength(bytes, i);
    if (n === 0) out += String.fromCharCode(0xdc00 + bytes[i]!);
    else out += bytes.subarray(i, i + n).toString('utf8');
    i += n || 1;
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0. */
function validSequenceLength(b: Buffer, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const [n, lo, hi] =
    lead >= 0xc2 && lead <= 0xdf
      ? [2, 0x80, 0xbf]
      : lead === 0xe0
        ? [3, 0xa0, 0xbf]
        : lead === 0xed
          ? [3, 0x80, 0x9f]
          : lead >= 0xe1 && lead <= 0xef
            ? [3, 0x80, 0xbf]
            : lead === 0xf0
              ? [4, 0x90, 0xbf]
              : lead === 0xf4
                ? [4, 0x80, 0x8f]
                : lead >= 0xf1 && lead <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : [0, 0, 0];
  if (n === 0 || i + n > b.length) return 0;
  if (b[i + 1]! < lo || b[i + 1]! > hi) return 0;
  for (let k = 2; k < n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return 0;
  return n;
}

/** Where Python's `str.splitlines` ends a line, which covers node:readline's `\r`, `\n`, `\r\n`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const LINE_BREAKS = /\r\n|[\r\n\v\f\x1c\x1d\x1e\u0085\u2028\u2029]/;
/** Python's json raises RecursionError past about this depth (its default recursion limit). */
const PYTHON_MAX_DEPTH = 1000;

/** What each reader reads in one frame (the bytes between two `\n`, without them). */
export function readAll(frame: Buffer): Record<ReaderName, Reading[]> {
  const text = frame.toString('utf8'); // invalid bytes become U+FFFD, as Node and Go decode them
  return {
    lastKey: readText(text, (t) => readValue(JSON.parse(t), readingOf)),
    firstKey: readText(text, (t) => treeReadings(t, (tree) => readingOf(treeValue(tree, 'first')))),
    goFold: readText(text, (t) => treeReadings(t, goReading)),
    lineSplit: decodeSurrogateEscape(frame)
      .split(LINE_BREAKS)
      .flatMap((line) =>
        readText(line, (t) => (nestingDepth(t) > PYTHON_MAX_DEPTH ? [{ kind: 'invalid-json' }] : readValue(JSON.parse(t), readingOf))),
      ),
    cString: readText(text, (t) => treeReadings(t, cReading)),
  };
}

/**
 * A canonical text of readings, for comparison: keys sorted, and the argument keys compared the way
 * `foldKey` compares them, when given (two keys that fold alike make the text differ from any reading
 * of a reader that folds).
 */
export function canonical(readings: Reading[], foldKey?: (key: string) => string): string {
  return readings
    .map((r) =>
      r.kind !== 'message' ? r.kind : [canonicalText(r.method), canonicalText(r.name), canonicalText(r.arguments, foldKey)].join(' '),
    )
    .join('\n');
}

/** How each reader compares argument keys: as written, or folded. */
const keyFolds: Partial<Record<ReaderName, (key: string) => string>> = { goFold: goFoldKey, cString: cKey };

/** The readers that disagree with `lastKey` about this frame (empty when they all read it alike). */
export function disagreements(all: Record<ReaderName, Reading[]>): ReaderName[] {
  return readerNames.filter((name) => canonical(all[name]) !== canonical(all.lastKey, keyFolds[name]));
}

/** A frame as readable text: JSON string syntax, invisible characters escaped, bytes that are not UTF-8 shown as \udcNN. */
export function showFrame(frame: Buffer): string {
  return JSON.stringify(decodeSurrogateEscape(frame)).replace(
    /[\u007f-\u00a0\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
