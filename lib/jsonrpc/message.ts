/**
 * JSON-RPC 2.0 message types and the type guards that classify a parsed frame. The proxy never
 * builds these objects to send them: it forwards original bytes. They exist to read frames.
 */
import { isUtf8 } from 'node:buffer';
import type { RawId } from './errors.js';
import { idAtEnd, scanTopLevel } from './json-scan.js';
import { bytesProblem, envelopeProblem } from './one-reading.js';
import { strictScan } from './strict-scan.js';

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

/**
 * A key for a parsed JSON value, such as a progress token. Request ids are matched by their own text
 * instead (rawIdKey below): `7` and `7.0` must stay two ids.
 */
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
  private members: Map<string, string> | undefined;

  constructor(
    /** The message's own JSON text (the whole frame, or one batch element). */
    readonly text: string,
    readonly value: unknown,
    /** Its top-level members' raw text, when the frame's scan already has them. */
    members?: Map<string, string>,
    /** Strict reading only: why another reader could read this message's envelope differently. */
    readonly problem?: string,
  ) {
    this.members = members;
  }

  get method(): string | undefined {
    return Message.hasMethod(this.value) ? this.value.method : undefined;
  }

  get isRequest(): boolean {
    return Message.isRequest(this.value);
  }

  /** The parsed `params` member, as written (undefined when absent or not an object message). */
  get params(): unknown {
    return Message.isObject(this.value) ? this.value.params : undefined;
  }

  /** `params.NAME` when params is an object, else undefined. */
  param(name: string): unknown {
    const params = this.params;
    return Message.isObject(params) ? params[name] : undefined;
  }

  /** The progress token a request asks progress under (`params._meta.progressToken`), or undefined. */
  get progressToken(): unknown {
    const meta = this.param('_meta');
    return Message.isObject(meta) ? meta.progressToken : undefined;
  }

  /**
   * A `tools/call`'s tool name and arguments as the policy reads them: '' when the name is not a
   * string, {} when the arguments are not an object (the gate refuses both in enforce mode first).
   */
  toolCall(): { tool: string; arguments: Record<string, unknown> } {
    const name = this.param('name');
    const args = this.param('arguments');
    return { tool: typeof name === 'string' ? name : '', arguments: Message.isObject(args) ? args : {} };
  }

  /** The id exactly as written (`1.0` stays `1.0`); `null` when absent. */
  get rawId(): RawId {
    if (!Message.isObject(this.value) || !('id' in this.value)) return 'null';
    if (!this.members) {
      const atEnd = idAtEnd(this.text);
      if (atEnd !== undefined) return atEnd;
    }
    this.members ??= scanTopLevel(this.text).members;
    return this.members.get('id') ?? JSON.stringify(this.value.id) ?? 'null';
  }

  /** The raw text of `params.NAME` (a cancellation's `requestId`), or undefined. */
  rawParam(name: string): string | undefined {
    this.members ??= scanTopLevel(this.text).members;
    const params = this.members.get('params');
    return params?.startsWith('{') ? scanTopLevel(params).members.get(name) : undefined;
  }
}

export type ReadFrame =
  | { kind: 'blank' }
  | { kind: 'invalid-json'; reason: string }
  /** `problem`, from a strict reading only: why the frame as a whole can be read more than one way. */
  | { kind: 'single'; message: ParsedMessage; utf8: boolean; problem?: string; problemKey?: string }
  | { kind: 'batch'; messages: ParsedMessage[]; utf8: boolean; problem?: string; problemKey?: string };

type Parsed = { text: string; value: unknown; utf8: boolean };

/** Decodes and parses a frame; a blank or non-JSON frame is already its ReadFrame. */
function parse(frame: Buffer): Parsed | ReadFrame {
  const text = frame.toString('utf8');
  if (text.trim() === '') return { kind: 'blank' };
  try {
    return { text, value: JSON.parse(text), utf8: isUtf8(frame) };
  } catch (err) {
    return { kind: 'invalid-json', reason: (err as Error).message };
  }
}

/** Parses one frame once; a batch is split into its elements with their original text. */
export function readFrame(frame: Buffer): ReadFrame {
  const parsed = parse(frame);
  if ('kind' in parsed) return parsed;
  const { text, value, utf8 } = parsed;
  if (!Array.isArray(value)) return { kind: 'single', message: new ParsedMessage(text, value), utf8 };
  return { kind: 'batch', messages: elementsOf(text, value, scanTopLevel(text).elements, false), utf8 };
}

/**
 * Reads a host frame the strict way (docs/policy.md, "One frame, one reading"): as readFrame, plus
 * the frame's `problem` (its bytes, duplicate or case-folded keys, depth, surrogates) and each
 * message's envelope `problem`. Nothing here recurses, so a deeply nested frame cannot overflow the stack.
 */
export function readHostFrame(frame: Buffer): ReadFrame {
  const parsed = parse(frame);
  if ('kind' in parsed) return parsed;
  const { text, value, utf8 } = parsed;
  const scan = strictScan(text);
  const problem = bytesProblem(frame, utf8) ?? scan.problem;
  const found = problem === undefined ? {} : { problem, problemKey: problem === scan.problem ? scan.problemKey : undefined };
  if (!Array.isArray(value)) {
    const message = new ParsedMessage(text, value, scan.members, envelopeProblem(value));
    return { kind: 'single', message, utf8, ...found };
  }
  // A scan that stopped at a problem has not found every element: the plain scan finds them all.
  const spans = scan.problem === undefined ? scan.elements : scanTopLevel(text).elements;
  return { kind: 'batch', messages: elementsOf(text, value, spans, true), utf8, ...found };
}

function elementsOf(text: string, values: unknown[], spans: Array<[number, number]>, strict: boolean): ParsedMessage[] {
  return values.map((element, i) => {
    const span = spans[i];
    const elementText = span ? text.slice(span[0], span[1]) : JSON.stringify(element);
    return new ParsedMessage(elementText, element, undefined, strict ? envelopeProblem(element) : undefined);
  });
}
