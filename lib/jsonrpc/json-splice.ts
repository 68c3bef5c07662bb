/**
 * Replaces one value inside a JSON text without re-serializing the rest: the HTTP front gives
 * stateless (2026-07-28) requests from different clients ids of its own on their shared upstream,
 * and gives the answers back their clients' ids, byte for byte everywhere else (docs/http.md,
 * "Modern-era requests"). A path names object members from the top (`['params', '_meta',
 * 'progressToken']`); every occurrence of a repeated key is replaced, so a reader that keeps the
 * first and one that keeps the last both see the new value. The bytes are viewed as latin1 (one
 * character per byte, JSON's structure being ASCII), so spans are byte offsets.
 */
import { skipString } from './json-scan.js';

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the JSON value starting at `i` (after white space). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c !== 123 /* { */ && c !== 91 /* [ */) {
    while (i < text.length && !/[\s,}\]]/.test(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) i = skipString(text, i) - 1;
    else if (d === 123 || d === 91) depth++;
    else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
  }
  return text.length;
}

/** The key of a member, decoded as JSON.parse would (escapes, UTF-8). */
function keyAt(text: string, open: number, close: number): string | undefined {
  try {
    return JSON.parse(Buffer.from(text.slice(open, close), 'latin1').toString('utf8')) as string;
  } catch {
    return undefined;
  }
}

/** Collects the [start, end) spans of every value at `path` inside the object starting at `i`. */
function collect(text: string, i: number, path: string[], spans: Array<[number, number]>): void {
  if (text.charCodeAt(i) !== 123) return;
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i);
    const key = keyAt(text, i, keyEnd);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return;
    const start = skipSpace(text, i + 1);
    const end = skipValue(text, start);
    if (key === path[0]) {
      if (path.length === 1) spans.push([start, end]);
      else collect(text, start, path.slice(1), spans);
    }
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== COMMA) return;
    i = skipSpace(text, i + 1);
  }
}

/** The raw texts of the values at `path` in a JSON object text (empty when there is none). */
export function valuesAt(json: Buffer, path: string[]): string[] {
  const text = json.toString('latin1');
  const spans: Array<[number, number]> = [];
  collect(text, skipSpace(text, 0), path, spans);
  return spans.map(([s, e]) => Buffer.from(text.slice(s, e), 'latin1').toString('utf8'));
}

/** The JSON text with every value at `path` replaced by `replacement` (JSON text); unchanged when there is none. */
export function spliceAt(json: Buffer, path: string[], replacement: string): Buffer {
  const text = json.toString('latin1');
  const spans: Array<[number, number]> = [];
  collect(text, skipSpace(text, 0), path, spans);
  if (spans.length === 0) return json;
  const parts: Buffer[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    parts.push(json.subarray(at, s), Buffer.from(replacement, 'utf8'));
    at = e;
  }
  parts.push(json.subarray(at));
  return Buffer.concat(parts);
}
