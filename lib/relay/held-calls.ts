/**
 * Calls the proxy holds back from upstream while the policy decides or a human approves. A hold
 * ends exactly once: released (forwarded), refused (answered with an error), cancelled by the host
 * (`notifications/cancelled`: nothing is sent either way) or failed at shutdown.
 */
import type { RawId } from '../jsonrpc/errors.js';
import { sameNumber } from './numeric-id-spellings.js';
import type { CallRecord } from './ports.js';

export interface HeldCall {
  rawId: RawId;
  call: CallRecord;
  /** Set while a human is asked (not while a slow policy decides). */
  approvalId?: string;
  /** Aborted when the hold ends early: the host cancelled, or the proxy is stopping. */
  abort: AbortController;
}

export class HeldCalls {
  private readonly byId = new Map<string, HeldCall>();

  get size(): number {
    return this.byId.size;
  }

  /** The id of a held call that is this id, or the same number spelled otherwise (a request with it is refused); undefined if none. */
  idInUse(key: string): string | undefined {
    const call = this.byId.get(key);
    if (call) return call.rawId;
    if (this.byId.size === 0) return undefined;
    for (const [heldKey, held] of this.byId) if (sameNumber(heldKey, key)) return held.rawId;
    return undefined;
  }

  hold(key: string, call: HeldCall): void {
    this.byId.set(key, call);
  }

  /** Ends a hold normally; returns false when it had already ended (e.g. cancelled meanwhile). */
  release(key: string, call: HeldCall): boolean {
    if (this.byId.get(key) !== call) return false;
    this.byId.delete(key);
    return true;
  }

  /** The host cancelled: the hold ends and nothing will be forwarded or answered. */
  cancel(key: string): HeldCall | undefined {
    const call = this.byId.get(key);
    if (!call) return undefined;
    this.byId.delete(key);
    call.abort.abort(new Error('cancelled by the host'));
    return call;
  }

  /** Ends every hold (the proxy is stopping); returns them so each can still be answered. */
  drain(reason: string): HeldCall[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const call of all) call.abort.abort(new Error(reason));
    return all;
  }
}
