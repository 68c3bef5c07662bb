/**
 * A small structural scanner over JSON text that `JSON.parse` cannot replace:
 *  - the raw text of top-level members (so a request id is echoed back exactly as sent),
 *  - the byte ranges of top-level array elements (so a filtered batch is rebuilt from original bytes).
 * Host frames get the stricter strict-scan.ts, which also finds what other readers read differently.
 * It assumes the text already parsed as JSON; on anything else its answers are meaningless.
 */

export interface TopLevelScan {
  /** Top-level object members: key → raw value text (last occurrence wins, as in JSON.parse). */
  members: Map<string, string>;
  /** Top-level array elements as [start, end) offsets into the text. */
  elements: Array<[number, number]>;
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

/** The span without the JSON white space at either end. */
export function trimmedSpan(text: string, start: number, end: number): [number, number] {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export function scanTopLevel(text: string): TopLevelScan {
  const members = new Map<string, string>();
  const elements: Array<[number, number]> = [];
  let depth = 0;
  let topKind: 'object' | 'array' | undefined;
  let pendingKey: string | undefined;
  let valueStart = -1;
  let lastString: [number, number] | undefined;

  const closeValue = (end: number): void => {
    if (valueStart === -1) return;
    const [s, e] = trimmedSpan(text, valueStart, end);
    if (topKind === 'object' && pendingKey !== undefined) members.set(pendingKey, text.slice(s, e));
    if (topKind === 'array' && e > s) elements.push([s, e]);
    valueStart = -1;
    pendingKey = undefined;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(text, i);
      lastString = [i, end];
      i = end - 1;
      continue;
    }
    if (c === COLON) {
      if (depth === 1 && topKind === 'object' && lastString) {
        pendingKey = JSON.parse(text.slice(lastString[0], lastString[1])) as string;
        valueStart = i + 1;
      }
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth === 0) {
        topKind = c === 123 ? 'object' : 'array';
        if (topKind === 'array') valueStart = i + 1;
      }
      depth++;
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      if (depth === 0) closeValue(i);
      continue;
    }
    if (c === COMMA && depth === 1) {
      closeValue(i);
      if (topKind === 'array') valueStart = i + 1;
    }
  }
  return { members, elements };
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
  const { members } = scanTopLevel(text);
  const rawId = members.get('id');
  const result = members.get('result');
  return {
    kind: 'object',
    method: parseMember(members.get('method')),
    rawId: rawId === undefined ? undefined : utf8Of(rawId),
    id: parseMember(rawId),
    error: parseMember(members.get('error')) as Envelope['error'],
    resultIsError: result !== undefined && result.startsWith('{') && scanTopLevel(result).members.get('isError') === 'true',
  };
}
