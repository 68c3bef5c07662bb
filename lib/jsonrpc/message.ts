/**
 * JSON-RPC 2.0 message types and the type guards that classify a parsed frame. The proxy never
 * builds these objects to send them: it forwards original bytes. They exist to read frames.
 */
import { isUtf8 } from 'node:buffer';
import { countParsedMembers, scanTopLevel, type TopLevelScan } from './json-scan.js';
import type { RawId } from './errors.js';

export type JsonRpcId = string | number | null;

export interface RequestMessage {
  jsonrpc?: unknown;
  id: JsonRpcId;
  method: string;
  params?: unknown;
}

export interface NotificationMessage {
  jsonrpc?: unknown;
  method: string;
  params?: unknown;
}

export interface ResponseMessage {
  jsonrpc?: unknown;
  id: JsonRpcId;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: unknown };
}

export type AnyMessage = RequestMessage | NotificationMessage | ResponseMessage;

export namespace Message {
  export function isObject(m: unknown): m is Record<string, unknown> {
    return m !== null && typeof m === 'object' && !Array.isArray(m);
  }
  /** A message with a method: a request or a notification. */
  export function hasMethod(m: unknown): m is NotificationMessage {
    return isObject(m) && typeof m.method === 'string';
  }
  export function isRequest(m: unknown): m is RequestMessage {
    return hasMethod(m) && 'id' in m && (m as { id: unknown }).id !== undefined;
  }
  export function isNotification(m: unknown): m is NotificationMessage {
    return hasMethod(m) && !('id' in m);
  }
  export function isResponse(m: unknown): m is ResponseMessage {
    return isObject(m) && !('method' in m) && 'id' in m && ('result' in m || 'error' in m);
  }
}

/** A key that identifies a request id for matching (answers and cancellations carry parsed ids). */
export function idKey(id: unknown): string {
  return JSON.stringify(id) ?? 'undefined';
}

/**
 * The key the proxy matches requests, answers and cancellations by: the id's own JSON text, so `7`,
 * `7.0` and `"7"` are three ids (docs/errors.md). Only a string is normalised, to its value
 * (`"\u0061"` is `"a"`): JSON says those are the same string, while `7` and `7.0` are two spellings
 * the upstream may well tell apart.
 */
export function rawIdKey(rawId: RawId): string {
  if (rawId.charCodeAt(0) !== 34 /* " */) return rawId;
  try {
    return JSON.stringify(JSON.parse(rawId));
  } catch {
    return rawId;
  }
}

/** One JSON-RPC message read from a frame, with enough of its original text to echo its id exactly. */
export class ParsedMessage {
  private scanned: TopLevelScan | undefined;

  constructor(
    /** The message's own JSON text (the whole frame, or one batch element). */
    readonly text: string,
    readonly value: unknown,
  ) {}

  get method(): string | undefined {
    return Message.hasMethod(this.value) ? this.value.method : undefined;
  }

  get isRequest(): boolean {
    return Message.isRequest(this.value);
  }

  /** The id exactly as written (`1.0` stays `1.0`); `null` when absent. */
  get rawId(): RawId {
    if (!Message.isObject(this.value) || !('id' in this.value)) return 'null';
    const fast = JSON.stringify(this.value.id) ?? 'null';
    // Fast path: the id appears exactly as JSON.stringify writes it (`1` must not match `1.0`), and
    // it is the only `"id":` of the text (a nested `{"id":7}` in the params must not stand for `7.0`).
    const at = this.text.indexOf(`"id":${fast}`);
    if (at !== -1 && /^[\s,}]/.test(this.text.charAt(at + 5 + fast.length)) && this.onlyIdKeyAt(at)) return fast;
    return this.scan().members.get('id') ?? fast;
  }

  /** The raw text of `params.NAME` (a cancellation's `requestId`), or undefined. */
  rawParam(name: string): string | undefined {
    const params = this.scan().members.get('params');
    return params?.startsWith('{') ? scanTopLevel(params).members.get(name) : undefined;
  }

  private onlyIdKeyAt(at: number): boolean {
    return this.text.indexOf('"id":') === at && this.text.indexOf('"id":', at + 5) === -1;
  }

  /** True when some object in the text has the same key twice (JSON.parse would silently keep the last). */
  hasDuplicateKeys(): boolean {
    return this.scan().memberCount !== countParsedMembers(this.value);
  }

  private scan(): TopLevelScan {
    this.scanned ??= scanTopLevel(this.text);
    return this.scanned;
  }
}

export type ReadFrame =
  | { kind: 'blank' }
  | { kind: 'invalid-json'; reason: string }
  | { kind: 'single'; message: ParsedMessage; utf8: boolean }
  | { kind: 'batch'; messages: ParsedMessage[]; utf8: boolean };

/** Parses one frame once; a batch is split into its elements with their original text. */
export function readFrame(frame: Buffer): ReadFrame {
  const text = frame.toString('utf8');
  if (text.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid-json', reason: (err as Error).message };
  }
  const utf8 = isUtf8(frame);
  if (!Array.isArray(value)) return { kind: 'single', message: new ParsedMessage(text, value), utf8 };
  const spans = scanTopLevel(text).elements;
  const messages = value.map((element, i) => {
    const span = spans[i];
    return new ParsedMessage(span ? text.slice(span[0], span[1]) : JSON.stringify(element), element);
  });
  return { kind: 'batch', messages, utf8 };
}
