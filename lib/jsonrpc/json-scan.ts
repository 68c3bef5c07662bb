/**
 * A small structural scanner over JSON text that `JSON.parse` cannot replace:
 *  - the raw text of top-level members (so a request id is echoed back exactly as sent),
 *  - the byte ranges of top-level array elements (so a filtered batch is rebuilt from original bytes).
 * Host frames get the stricter strict-scan.ts, which also finds what other readers read differently.
 * It assumes the text already parsed as JSON; on anything else its answers are meaningless.
 */
import { foldKey } from './key-fold.js';

export interface TopLevelScan {
  /** Top-level object members: key → raw value text (last occurrence wins, as in JSON.parse). */
  members: Map<string, string>;
  /**
   * A top-level key that names an answer's `id`, `result` or `error` twice, or in another case than
   * that (`ID`, `reſult`: Go's encoding/json folds keys): another reader may take another value for it.
   */
  ambiguousKey?: string;
  /** Top-level array elements as [start, end) offsets into the text. */
  elements: Array<[number, number]>;
}

/** The keys that say which request an answer settles and what it says. */
const ANSWER_KEYS = new Set(['id', 'result', 'error']);
/** The other envelope keys, as written: nothing to fold. */
const OTHER_KEYS = new Set(['jsonrpc', 'method', 'params']);
const LATIN1_HIGH = /[\u0080-\u00ff]/;
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
/** Whether a key another reader takes for an answer key; also read as UTF-8, since peekEnvelope scans bytes as latin1. */
function foldsToAnswerKey(key: string): boolean {
  if (ANSWER_KEYS.has(foldKey(key))) return true;
  return LATIN1_HIGH.test(key) && !BEYOND_LATIN1.test(key) && ANSWER_KEYS.has(foldKey(Buffer.from(key, 'latin1').toString('utf8')));
}

const QUOTE = 34; // "
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;

/** Index just past the closing quote of the string starting at `open` (the opening quote). */
export function skipString(text: string, open: number): number {
  let i = open + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q === -1) return text.length;
    let backslashes = 0;
    for (let j = q - 1; j > open && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

function trimmedSpan(text: string, start: number, end: number): [number, number] {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Collects, as a scan goes by, the raw text of top-level members and the spans of top-level array
 * elements. The scan tells it where the top-level value opens, where each member's colon is, and
 * where each top-level comma and the closing bracket are.
 */
export class TopLevelCollector implements TopLevelScan {
  readonly members = new Map<string, string>();
  readonly elements: Array<[number, number]> = [];
  ambiguousKey: string | undefined;
  private kind: 'object' | 'array' | undefined;
  private key: string | undefined;
  private start = -1;

  constructor(private readonly text: string) {}

  /** The top-level value opens with `c` (`{` or `[`) at `i`. */
  open(c: number, i: number): void {
    this.kind = c === 123 ? 'object' : 'array';
    if (this.kind === 'array') this.start = i + 1;
  }

  /** A top-level member named `key` has its colon at `colon`. */
  member(key: string, colon: number): void {
    if (this.kind !== 'object') return;
    if (ANSWER_KEYS.has(key) ? this.members.has(key) : !OTHER_KEYS.has(key) && key.length < 12 && foldsToAnswerKey(key))
      this.ambiguousKey ??= key;
    this.key = key;
    this.start = colon + 1;
  }

  /** A top-level comma (`more`) or the closing bracket at `i` ends the current member or element. */
  end(i: number, more: boolean): void {
    if (this.start !== -1) {
      const [s, e] = trimmedSpan(this.text, this.start, i);
      if (this.kind === 'object' && this.key !== undefined) this.members.set(this.key, this.text.slice(s, e));
      if (this.kind === 'array' && e > s) this.elements.push([s, e]);
    }
    this.start = more && this.kind === 'array' ? i + 1 : -1;
    this.key = undefined;
  }
}

export function scanTopLevel(text: string): TopLevelScan {
  const top = new TopLevelCollector(text);
  let depth = 0;
  let lastString: [number, number] | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(text, i);
      lastString = [i, end];
      i = end - 1;
    } else if (c === COLON) {
      if (depth === 1 && lastString) top.member(JSON.parse(text.slice(lastString[0], lastString[1])) as string, i);
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth === 0) top.open(c, i);
      depth++;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      if (depth === 0) top.end(i, false);
    } else if (c === COMMA && depth === 1) {
      top.end(i, true);
    }
  }
  return top;
}

/**
 * The raw text of an object's `id` when it is the object's last member, written as JSON.stringify
 * writes it (`,"id":7}` or `,"id":"abc"}` at the end, a string without escapes), as servers that
 * serialise their answers write them; undefined otherwise (then the caller scans the whole text). For
 * a text that parsed as one JSON object this is what scanTopLevel(text).members.get('id') gives: the
 * closing brace is the object's own, so the member before it is a top-level one, and the last `id`
 * is the one JSON.parse keeps. It reads only the end of the text, whatever the size of the answer.
 */
export function idAtEnd(text: string): string | undefined {
  let end = text.length;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  if (text.charCodeAt(end - 1) !== 125 /* } */) return undefined;
  const key = text.lastIndexOf('"id":', end);
  if (key < 1) return undefined;
  const before = text.charCodeAt(key - 1);
  if (before !== COMMA && before !== 123 /* { */) return undefined;
  const raw = text.slice(key + 5, end - 1);
  if (raw.length === 0) return undefined;
  if (raw.charCodeAt(0) === QUOTE) {
    const closed = raw.length >= 2 && raw.indexOf('"', 1) === raw.length - 1 && !raw.includes('\\');
    return closed ? raw : undefined;
  }
  return /^-?[0-9][0-9.eE+-]*$/.test(raw) ? raw : undefined;
}

/**
 * Best-effort id of a frame we could not parse in full (an oversized frame's head): the raw text of a
 * top-level `"id"` member whose value is a string or number and appears before the cut.
 */
export function idFromHead(head: string): string | undefined {
  const match = /^\s*\{/.exec(head);
  if (!match) return undefined;
  const scan = scanTopLevel(head + '}');
  const raw = scan.members.get('id');
  if (raw === undefined) return undefined;
  // The member must be complete in the head itself, not closed by the brace we appended.
  const escaped = raw.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (!new RegExp(`"id"\\s*:\\s*${escaped}\\s*[,}]`).test(head)) return undefined;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return raw;
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    try {
      JSON.parse(raw);
      return raw;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** What `peekEnvelope` reads of a frame. */
export interface Envelope {
  /** The frame's first structural character: an object, an array (a batch), or anything else. */
  kind: 'object' | 'array' | 'other';
  method?: unknown;
  /** The id's raw text and its value. */
  rawId?: string;
  id?: unknown;
  /** The `error` member, parsed (error objects are small). */
  error?: { code?: unknown; message?: unknown };
  /** Whether `result` is an object with `"isError": true`. */
  resultIsError: boolean;
  /** See TopLevelScan.ambiguousKey. */
  ambiguousKey?: string;
}

const utf8Of = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

function parseMember(latin1: string | undefined): unknown {
  if (latin1 === undefined) return undefined;
  try {
    return JSON.parse(utf8Of(latin1));
  } catch {
    return undefined;
  }
}

/**
 * Reads the top-level members of a large JSON-RPC frame without decoding or parsing the whole of
 * it. The bytes are viewed as latin1, one character per byte: JSON's structural characters are
 * ASCII and never occur inside a multi-byte UTF-8 sequence, so offsets are byte offsets and only
 * the small members that are needed get decoded and parsed.
 */
export function peekEnvelope(frame: Buffer): Envelope {
  const text = frame.toString('latin1');
  const first = /\S/.exec(text.slice(0, 64))?.[0];
  if (first !== '{') return { kind: first === '[' ? 'array' : 'other', resultIsError: false };
  const { members, ambiguousKey } = scanTopLevel(text);
  const rawId = members.get('id');
  const result = members.get('result');
  return {
    kind: 'object',
    method: parseMember(members.get('method')),
    rawId: rawId === undefined ? undefined : utf8Of(rawId),
    id: parseMember(rawId),
    error: parseMember(members.get('error')) as Envelope['error'],
    resultIsError: result !== undefined && result.startsWith('{') && scanTopLevel(result).members.get('isError') === 'true',
    ambiguousKey: ambiguousKey === undefined ? undefined : utf8Of(ambiguousKey),
  };
}
