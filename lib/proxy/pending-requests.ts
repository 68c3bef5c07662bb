/**
 * Host requests that were forwarded upstream and not yet answered, keyed by id. The upstream tap
 * matches answers here (to finish tool-call telemetry and register listed tools); when the upstream
 * exits, each entry still here gets a -32603 so the host never waits forever. A host that reuses the
 * id of a request still pending breaks JSON-RPC; both are kept, and answers settle them in the order
 * they were sent (docs/errors.md).
 */
import type { RawId } from '../jsonrpc/errors.js';
import type { ToolCallRecord } from '../telemetry/telemetry.js';

export interface PendingRequest {
  rawId: RawId;
  method: string;
  /** Set for tools/call. */
  call?: ToolCallRecord;
}

export class PendingRequests {
  private readonly byId = new Map<string, PendingRequest>();
  /** Later requests with an id already pending, oldest first (rare: only a misbehaving host sends them). */
  private readonly reused = new Map<string, PendingRequest[]>();
  private reusedCount = 0;
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.byId.size + this.reusedCount;
  }

  add(key: string, entry: PendingRequest): void {
    if (!this.byId.has(key)) return void this.byId.set(key, entry);
    const queue = this.reused.get(key);
    if (queue) queue.push(entry);
    else this.reused.set(key, [entry]);
    this.reusedCount++;
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
      this.promoteReused(key);
      if (this.size === 0) this.wakeEmptyWaiters();
    }
    return entry;
  }

  private promoteReused(key: string): void {
    const queue = this.reused.get(key);
    if (!queue) return;
    this.byId.set(key, queue.shift()!);
    this.reusedCount--;
    if (queue.length === 0) this.reused.delete(key);
  }

  /** Resolves once nothing is pending, or after `timeoutMs`, whichever comes first. */
  whenEmpty(timeoutMs: number): Promise<void> {
    if (this.size === 0) return Promise.resolve();
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
    const all = [...this.byId.values(), ...[...this.reused.values()].flat()];
    this.byId.clear();
    this.reused.clear();
    this.reusedCount = 0;
    this.wakeEmptyWaiters();
    return all;
  }
}
