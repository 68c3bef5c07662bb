/**
 * What the gate decides for one message, as a value (docs/architecture.md, "Verdicts"): the gate
 * never writes; the interceptor enacts the verdict (it is the only writer) and then tells the
 * observer. `forward` sends the message's original bytes upstream, `answer` sends a frame of
 * ratri's own to the host instead, `hold` waits (a slow policy, a human) for the verdict to come,
 * and `none` sends nothing (a notification that was blocked, a call cancelled while held).
 */
import type { PolicyVerdict } from '../policy/policy-hook.js';
import type { PendingHoldProgress } from './hold-progress.js';
import type { PendingRequest } from './pending-requests.js';
import type { CallRecord } from './ports.js';

export type Verdict = Forward | Answer | Hold | Nothing;

export interface Forward {
  kind: 'forward';
  /** A request: the answer it waits for, matched by id (pending-requests.ts). */
  pending?: { key: string; request: PendingRequest };
  /** A tools/call: its start is recorded once forwarded. */
  call?: CallRecord;
  /** Monitor mode: what the policy decided (or will), recorded after the start, never enacted. */
  observed?: PolicyVerdict | Promise<PolicyVerdict>;
}

export interface Answer {
  kind: 'answer';
  frame: Buffer;
  /** The JSON-RPC code of the refusal (lib/jsonrpc/errors.ts) and why. */
  code: number;
  reason: string;
  /** A refused tools/call: it is recorded as failed, in its era's way (a modern call: `isError`). */
  call?: CallRecord;
  modern?: boolean;
}

export interface Hold {
  kind: 'hold';
  until: Promise<Verdict>;
  /** Progress notifications to the host while the call waits for a human (hold-progress.ts). */
  progress?: PendingHoldProgress;
}

export interface Nothing {
  kind: 'none';
}

export const NOTHING: Nothing = { kind: 'none' };

export function answer(frame: Buffer, code: number, reason: string, call?: CallRecord, modern?: boolean): Answer {
  return call ? { kind: 'answer', frame, code, reason, call, modern } : { kind: 'answer', frame, code, reason };
}
