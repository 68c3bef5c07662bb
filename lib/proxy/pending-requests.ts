/**
 * Host requests that were forwarded upstream and not yet answered, keyed by id. The upstream tap
 * matches answers here (to finish tool-call telemetry and register listed tools); when the upstream
 * exits, each entry still here gets a -32603 so the host never waits forever.
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
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.byId.size;
  }

  add(key: string, entry: PendingRequest): void {
    this.byId.set(key, entry);
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
      if (this.byId.size === 0) this.wakeEmptyWaiters();
    }
    return entry;
  }

  /** Resolves once nothing is pending, or after `timeoutMs`, whichever comes first. */
  whenEmpty(timeoutMs: number): Promise<void> {
    if (this.byId.size === 0) return Promise.resolve();
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
    this.wakeEmptyWaiters();
    return all;
  }
}
