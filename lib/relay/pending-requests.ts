/**
 * Host requests that were forwarded upstream and not yet answered, keyed by id. The upstream tap
 * matches answers here (to finish tool-call telemetry and register listed tools); when the upstream
 * exits, each entry still here gets a -32603 so the host never waits forever. A request the host
 * cancelled (`notifications/cancelled`) stays until its answer comes, for telemetry, but is no longer
 * waited for: the host expects no answer to it (docs/config.md, "When the proxy stops"). A host that
 * reuses the id of a request still pending breaks JSON-RPC: enforce mode refuses it (`idInUse`,
 * docs/errors.md); monitor mode forwards it, both are kept, and answers settle them in the order they
 * were sent. Keys are the ids' own text (rawIdKey); an upstream that rewrote a numeric id (`7.0`
 * answered as `7`) is matched by numeric-id-spellings.ts.
 */
import type { RawId } from '../jsonrpc/errors.js';
import type { PendingRound } from './input-rounds.js';
import { NumericIdSpellings } from './numeric-id-spellings.js';
import type { CallRecord } from './ports.js';
import type { JudgedCall } from './result-gate.js';

export interface PendingRequest {
  rawId: RawId;
  method: string;
  /** Set for tools/call. */
  call?: CallRecord;
  /** Set for tools/call: which round of its call it is, for an `input_required` answer (input-rounds.ts). */
  round?: PendingRound;
  /** The protocol version it was made under (its `_meta`, or the session's `initialize`): for tools/list. */
  protocolVersion?: string;
  /** The host sent `notifications/cancelled` for it. */
  cancelled?: boolean;
  /** Set when a result-phase rule can judge its answer: what those rules see of the call. */
  judge?: JudgedCall;
  /** A `tools/list` whose answer loses the tools every call to is blocked (hideBlockedTools). */
  hideBlocked?: boolean;
  /** Set for tools/list: when it was forwarded (performance.now()) and its trace context, for its span (docs/opentelemetry.md). */
  listing?: { startedAt: number; traceparent?: string };
}

/** Whether an entry's answer is read before the host gets it. */
const readFirst = (entry: PendingRequest): boolean => entry.judge !== undefined || entry.hideBlocked === true;

export class PendingRequests {
  private readonly byId = new Map<string, PendingRequest>();
  /** Later requests with an id already pending, oldest first (rare: only a misbehaving host sends them). */
  private readonly reused = new Map<string, PendingRequest[]>();
  private reusedCount = 0;
  private readonly spellings = new NumericIdSpellings();
  private answeredWaiters: Array<() => void> = [];
  /** Entries the host still waits for (not cancelled). */
  private outstanding = 0;
  /** Entries whose answer is read before the host gets it (judged, or a list to filter): while none is pending, no answer is looked at for them. */
  readFirstCount = 0;

  /** Every entry, cancelled ones included (a late answer still settles them). */
  get size(): number {
    return this.byId.size + this.reusedCount;
  }

  add(key: string, entry: PendingRequest): void {
    if (!entry.cancelled) this.outstanding++;
    if (readFirst(entry)) this.readFirstCount++;
    if (!this.byId.has(key)) {
      this.byId.set(key, entry);
      return this.spellings.add(key);
    }
    const queue = this.reused.get(key);
    if (queue) queue.push(entry);
    else this.reused.set(key, [entry]);
    this.reusedCount++;
  }

  /**
   * The id of a request still here that an answer to a request with id `key` could also settle: the
   * same id, or the same number spelled otherwise (`7` and `7.0`); undefined if none.
   */
  idInUse(key: string): string | undefined {
    const entry = this.byId.get(key);
    if (entry) return entry.rawId;
    const other = this.byId.size === 0 ? undefined : this.spellings.sameNumberPending(key, (k) => this.byId.has(k));
    return other === undefined ? undefined : this.byId.get(other)?.rawId;
  }

  /** The host cancelled the request with this id (the oldest one, if reused): it is no longer waited for. */
  cancel(key: string): void {
    const entry = this.byId.get(key);
    if (!entry || entry.cancelled) return;
    entry.cancelled = true;
    if (--this.outstanding === 0) this.wakeAnsweredWaiters();
  }

  /** The entry an answer with this id settles, left in place. */
  peek(answerKey: string): PendingRequest | undefined {
    const key = this.keyFor(answerKey);
    return key === undefined ? undefined : this.byId.get(key);
  }

  /** The pending key an answer with this id settles: the same text, else the same number respelled. */
  private keyFor(answerKey: string): string | undefined {
    if (this.byId.has(answerKey)) return answerKey;
    return this.byId.size === 0 ? undefined : this.spellings.match(answerKey, (k) => this.byId.has(k));
  }

  /** Removes and returns the entry an answer with this id settles. */
  settle(answerKey: string): PendingRequest | undefined {
    const key = this.keyFor(answerKey);
    const entry = key === undefined ? undefined : this.byId.get(key);
    if (key === undefined || !entry) return undefined;
    this.byId.delete(key);
    if (!this.promoteReused(key)) this.spellings.delete(key);
    if (!entry.cancelled && --this.outstanding === 0) this.wakeAnsweredWaiters();
    if (readFirst(entry)) this.readFirstCount--;
    return entry;
  }

  /** The next request reusing this id becomes the pending one; false when there is none. */
  private promoteReused(key: string): boolean {
    const queue = this.reused.get(key);
    if (!queue) return false;
    this.byId.set(key, queue.shift() as PendingRequest);
    this.reusedCount--;
    if (queue.length === 0) this.reused.delete(key);
    return true;
  }

  /** Resolves once every request not cancelled is answered, or after `timeoutMs`, whichever comes first. */
  whenAnswered(timeoutMs: number): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.answeredWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeAnsweredWaiters(): void {
    for (const wake of this.answeredWaiters.splice(0)) wake();
  }

  /** Removes and returns every entry. */
  drain(): PendingRequest[] {
    const all = [...this.byId.values(), ...[...this.reused.values()].flat()];
    this.byId.clear();
    this.reused.clear();
    this.reusedCount = 0;
    this.spellings.clear();
    this.outstanding = 0;
    this.readFirstCount = 0;
    this.wakeAnsweredWaiters();
    return all;
  }
}
