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

  get size(): number {
    return this.byId.size;
  }

  add(key: string, entry: PendingRequest): void {
    this.byId.set(key, entry);
  }

  /** Removes and returns the entry an answer with this id settles. */
  settle(key: string): PendingRequest | undefined {
    const entry = this.byId.get(key);
    if (entry) this.byId.delete(key);
    return entry;
  }

  /** Removes and returns every entry. */
  drain(): PendingRequest[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }
}
