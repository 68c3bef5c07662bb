/**
 * A host batch in enforce mode (docs/architecture.md, "Where frames are split"): forwarded whole
 * unless the gate refuses or holds some of its elements; then the elements decided at once go
 * upstream as a smaller batch (from their original bytes), refusals go to the host as one batch of
 * errors (a batch is answered with an array), and held elements travel alone once released.
 */
import { invalidRequestError, NULL_ID } from '../jsonrpc/errors.js';
import { Message, type ParsedMessage, rawIdKey } from '../jsonrpc/message.js';
import { expectsAnswer, refusalId } from '../jsonrpc/one-reading.js';
import { idValue } from './numeric-id-spellings.js';
import type { CallObserver } from './ports.js';

/** Where a message goes once decided: its original bytes upstream, or an answer of ours to the host. */
export interface Outlet {
  forward(): void;
  answer(frame: Buffer): void;
}

/** What a batch needs of the interceptor. */
export interface BatchRouter {
  observer: CallObserver;
  /** Whether some element needs the gate (else the batch goes whole, its requests remembered). */
  intercepts(message: ParsedMessage): boolean;
  route(message: ParsedMessage, frameBytes: number, out: Outlet): void;
  /** Remembers a request forwarded as part of a whole batch. */
  remember(message: ParsedMessage): void;
  toUpstream(frame: Buffer, terminated: boolean): void;
  toHost(frame: Buffer): void;
}

const BATCH_OPEN = Buffer.from('[');
const BATCH_CLOSE = Buffer.from(']');
const BATCH_COMMA = Buffer.from(',');

export function routeBatch(r: BatchRouter, messages: ParsedMessage[], frame: Buffer, terminated: boolean): void {
  if (!messages.some((m) => r.intercepts(m)) && !repeatsAnId(messages)) {
    for (const m of messages) if (m.isRequest) r.remember(m);
    return r.toUpstream(frame, terminated);
  }
  const forwarded: Buffer[] = [];
  const answers: Buffer[] = [];
  let collecting = true;
  for (const message of messages) {
    const text = Buffer.from(message.text);
    const out: Outlet = {
      forward: () => (collecting ? forwarded.push(text) : r.toUpstream(text, true)),
      answer: (f) => (collecting ? answers.push(f) : r.toHost(f)),
    };
    if (!Message.isObject(message.value)) {
      out.answer(invalidRequestError(NULL_ID, 'batch member is not a JSON-RPC message object'));
      continue;
    }
    if (message.problem) {
      r.observer.warning('ambiguous_frame', message.problem, { enforced: true, forwarded: false, batch: true });
      if (expectsAnswer(message.value)) out.answer(invalidRequestError(refusalId(message), message.problem));
      continue;
    }
    r.route(message, text.length, out);
  }
  collecting = false;
  if (forwarded.length === messages.length) r.toUpstream(frame, terminated);
  else if (forwarded.length > 0) r.toUpstream(joinBatch(forwarded), true);
  if (answers.length > 0) r.toHost(joinBatch(answers));
}

/** Two requests of the batch have the same id (or the same number): each is then routed, and the second refused (reused-id.ts). */
function repeatsAnId(messages: ParsedMessage[]): boolean {
  const seen = new Set<string>();
  for (const m of messages) {
    if (!m.isRequest) continue;
    const value = idValue(rawIdKey(m.rawId));
    if (seen.has(value)) return true;
    seen.add(value);
  }
  return false;
}

export function joinBatch(parts: Buffer[]): Buffer {
  const pieces: Buffer[] = [BATCH_OPEN];
  parts.forEach((p, i) => {
    if (i > 0) pieces.push(BATCH_COMMA);
    pieces.push(p);
  });
  pieces.push(BATCH_CLOSE);
  return Buffer.concat(pieces);
}
