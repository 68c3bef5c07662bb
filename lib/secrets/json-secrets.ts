/**
 * Secrets in a JSON text (docs/secrets.md#what-is-scanned): the text secretlint reads is the JSON
 * text with every string written out decoded between its quotes, so a token right after an escaped
 * newline (`\nghp_…`) or spelled with escapes (`\u0067hp_…`, `:\/\/`) reads as the upstream will read
 * it; keys stay next to their values, for rules that look for a key name. Redaction replaces, by
 * "[REDACTED:<rule>]", the part of the string a secret's span starts in that the span covers, and,
 * when the span starts in a key or between strings, the whole of the first value after its start (a
 * rule that reports from a key name on cannot be trusted to say where the value ends). A span never
 * reaches further: some rules let a match run on past the closing quote of the value it found
 * (the connection-string rule, up to 100 characters), over members that hold no secret. Every
 * other byte of the JSON text stays as it was.
 */
import { skipString } from '../jsonrpc/json-scan.js';
import type { FindSecrets, SecretSpan } from './find-secrets.js';

/** One string of the JSON text: where it is there (quotes included) and in the scanned text (content only). */
interface StringToken {
  rawStart: number;
  rawEnd: number;
  scanStart: number;
  scanEnd: number;
  decoded: string;
  /** A member's name: redacted only where a span starts inside it (a rule that starts at a key name means the value). */
  isKey: boolean;
}

/** The text secretlint reads, and where each string of the JSON text is in it. */
export interface ScanView {
  text: string;
  strings: StringToken[];
}

function nextNonSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  return i;
}

/** Builds the scanned text of a JSON text that JSON.parse accepted. */
export function scanView(json: string): ScanView {
  const strings: StringToken[] = [];
  let text = '';
  let copied = 0;
  for (let i = json.indexOf('"'); i !== -1; i = json.indexOf('"', i)) {
    const end = skipString(json, i);
    const decoded = JSON.parse(json.slice(i, end)) as string;
    text += json.slice(copied, i + 1);
    const isKey = json[nextNonSpace(json, end)] === ':';
    strings.push({ rawStart: i, rawEnd: end, scanStart: text.length, scanEnd: text.length + decoded.length, decoded, isKey });
    text += `${decoded}"`;
    copied = i = end;
  }
  return { text: text + json.slice(copied), strings };
}

/** What a scan found: the spans (in the view's text) and the view, for redaction. */
export interface JsonSecrets {
  /** The JSON text scanned. */
  json: string;
  view: ScanView;
  spans: readonly SecretSpan[];
}

/** The answer for a JSON text with no secret. */
const noSecrets = (json: string): JsonSecrets => ({ json, view: { text: json, strings: [] }, spans: [] });

/**
 * Scans a JSON text; synchronous when the prefilter lets nothing through. Without `\u` or `\/`
 * escapes, decoding a string cannot make a prefilter fragment appear (none holds a character the
 * other escapes stand for), so the prefilter reads the text as it is, and no string is decoded.
 */
export function findJsonSecrets(json: string, find: FindSecrets): JsonSecrets | Promise<JsonSecrets> {
  if (!find.mayHold(json) && !/\\[u/]/.test(json)) return noSecrets(json);
  const view = scanView(json);
  const spans = find(view.text);
  return spans instanceof Promise ? spans.then((s) => ({ json, view, spans: s })) : { json, view, spans };
}

export const redactedMarker = (ruleId: string): string => `[REDACTED:${ruleId}]`;

/**
 * The strings a span redacts, by their index: the one it starts in, and, when that is a key or there
 * is none, the first value string after its start that it reaches.
 */
function targetsOf(strings: readonly StringToken[], span: SecretSpan, into: Map<number, SecretSpan[]>): void {
  for (let i = 0; i < strings.length; i++) {
    const token = strings[i]!;
    if (token.scanEnd <= span.start) continue;
    if (token.scanStart >= span.end) return;
    const startsInside = token.scanStart <= span.start;
    if (startsInside || !token.isKey) (into.get(i) ?? into.set(i, []).get(i)!).push(span);
    if (!token.isKey) return;
  }
}

/** The decoded string with the parts its spans cover replaced (the whole string from where a span starts before it). */
function redactString(token: StringToken, spans: readonly SecretSpan[]): string {
  const cuts = spans
    .map((s) => ({
      ruleId: s.ruleId,
      from: s.start <= token.scanStart ? 0 : s.start - token.scanStart,
      to: s.start < token.scanStart ? token.decoded.length : Math.min(s.end, token.scanEnd) - token.scanStart,
    }))
    .sort((a, b) => a.from - b.from);
  let out = '';
  let at = 0;
  for (const cut of cuts) {
    if (cut.to <= at) continue; // inside a part already replaced
    out += `${token.decoded.slice(at, Math.max(at, cut.from))}${redactedMarker(cut.ruleId)}`;
    at = cut.to;
  }
  return out + token.decoded.slice(at);
}

/** The JSON text with the secrets replaced; `changed` false (and the same text) when there were none. */
export function redactJsonSecrets(json: string, found: JsonSecrets): { text: string; changed: boolean } {
  if (found.spans.length === 0) return { text: json, changed: false };
  const { strings } = found.view;
  const spansOf = new Map<number, SecretSpan[]>();
  for (const span of found.spans) targetsOf(strings, span, spansOf);
  if (spansOf.size === 0) return { text: json, changed: false };
  let out = '';
  let copied = 0;
  for (const i of [...spansOf.keys()].sort((a, b) => a - b)) {
    const token = strings[i]!;
    out += `${json.slice(copied, token.rawStart)}${JSON.stringify(redactString(token, spansOf.get(i)!))}`;
    copied = token.rawEnd;
  }
  return { text: out + json.slice(copied), changed: true };
}

/** `value` (the value `found.json` is the JSON text of) with its secrets redacted: a copy, or `value` itself when it holds none. */
export function redactedValue<T>(value: T, found: JsonSecrets): T {
  const redacted = redactJsonSecrets(found.json, found);
  return redacted.changed ? (JSON.parse(redacted.text) as T) : value;
}

/** Nested deeper than this, a value is left to the scan of its JSON text. */
const WALK_DEPTH = 100;

/**
 * Whether the prefilter may let some string of a parsed JSON value through, member names included,
 * each tested on its own (decoded, as the scanned text holds it). That answers for the whole scanned
 * text because no fragment's match can hold a `"` (docs/secrets.md#cost), so none
 * runs from one string into the next, and none matches the JSON between strings (numbers, `true`,
 * `false`, `null`, punctuation). A value whose JSON text is not its own fields (`toJSON`), or one
 * nested too deep, answers true: the JSON text is then scanned as before.
 */
function valueMayHold(value: unknown, mayHold: (text: string) => boolean, depth: number): boolean {
  if (typeof value === 'string') return mayHold(value);
  if (value === null || typeof value !== 'object') return false;
  if (depth > WALK_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  if (Array.isArray(value)) {
    for (const item of value) if (valueMayHold(item, mayHold, depth + 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (mayHold(key) || valueMayHold(record[key], mayHold, depth + 1)) return true;
  }
  return false;
}

/** The answer for a value with no secret; its JSON text is written only if someone reads it. */
class NoValueSecrets implements JsonSecrets {
  readonly spans: readonly SecretSpan[] = [];
  private text: string | undefined;

  constructor(private readonly value: unknown) {}

  get json(): string {
    this.text ??= JSON.stringify(this.value) ?? 'null';
    return this.text;
  }

  get view(): ScanView {
    return { text: this.json, strings: [] };
  }
}

/**
 * Scans a parsed JSON value; synchronous when the prefilter lets nothing through. The common case
 * (no string the prefilter lets through) is answered from the value's strings, without writing its
 * JSON text (docs/performance.md#per-call-cpu-issue-13). `stored`: the value is a record stored as
 * it is (a call record, its arguments already redacted), whose short clean strings may be
 * remembered (find-secrets.ts); a call's own arguments or an answer's result are never remembered.
 */
export function findValueSecrets(value: unknown, find: FindSecrets, stored = false): JsonSecrets | Promise<JsonSecrets> {
  if (!valueMayHold(value, stored ? find.mayHoldRemembered : find.mayHold, 0)) return new NoValueSecrets(value);
  return findJsonSecrets(JSON.stringify(value) ?? 'null', find);
}

/** A parsed JSON value with its secrets redacted (a copy), or the same value when it holds none. */
export function redactValueSecrets<T>(value: T, find: FindSecrets): T | Promise<T> {
  const found = findValueSecrets(value, find);
  return found instanceof Promise ? found.then((f) => redactedValue(value, f)) : redactedValue(value, found);
}
