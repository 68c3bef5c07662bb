/**
 * Host requests that were forwarded upstream and not yet answered, keyed by id. The upstream tap
 * matches answers here (to finish tool-call telemetry and register listed tools); when the upstream
 * exits, each entry still here gets a -32603 so the host never waits forever. A request the host
 * cancelled (`notifications/cancelled`) stays until its answer comes, for telemetry, but is no longer
 * waited for: the host expects no answer to it (docs/config.md, "Exit codes" and the stop order).
 */
import type { RawId } from '../jsonrpc/errors.js';
import type { ToolCallRecord } from '../telemetry/telemetry.js';

export interface PendingRequest {
  rawId: RawId;
  method: string;
  /** Set for tools/call. */
  call?: ToolCallRecord;
  /** The host sent `notifications/cancelled` for it. */
  cancelled?: boolean;
}

export class PendingRequests {
  private readonly byId = new Map<string, PendingRequest>();
  private emptyWaiters: Array<() => void> = [];
  /** Entries the host still waits for (not cancelled). */
  private outstanding = 0;

  /** Every entry, cancelled ones included (a late answer still settles them). */
  get size(): number {
    return this.byId.size;
  }

  add(key: string, entry: PendingRequest): void {
    const replaced = this.byId.get(key);
    if (replaced && !replaced.cancelled) this.outstanding--;
    this.byId.set(key, entry);
    if (!entry.cancelled) this.outstanding++;
  }

  /** The host cancelled the request with this id: it no longer counts as waited for. */
  cancel(key: string): void {
    const entry = this.byId.get(key);
    if (!entry || entry.cancelled) return;
    entry.cancelled = true;
    this.outstanding--;
    if (this.outstanding === 0) this.wakeEmptyWaiters();
  }

  /** The entry for this id, left in place. */
  peek(key: string): PendingRequest | undefined {
    return this.byId.get(key);
  }

  /** Removes and returns the entry an answer with this id settles. */
  settle(key: string): PendingRequest | undefined {
    const entry = this.byId.get(key);
    if (entry) {
      this.byId.delete(key);
      if (!entry.cancelled && --this.outstanding === 0) this.wakeEmptyWaiters();
    }
    return entry;
  }

  /** Resolves once every request not cancelled is answered, or after `timeoutMs`, whichever comes first. */
  whenAnswered(timeoutMs: number): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.emptyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeEmptyWaiters(): void {
    for (const wake of this.emptyWaiters.splice(0)) wake();
  }

  /** Removes and returns every entry. */
  drain(): PendingRequest[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    this.outstanding = 0;
    this.wakeEmptyWaiters();
    return all;
  }
}
