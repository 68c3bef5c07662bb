/**
 * Learning at once that an approval changed, whichever replica changed it (docs/api.md,
 * "PostgreSQL"): one connection per `ratri serve` LISTENs on the channel every approval change is
 * NOTIFYed on (pg-approval-store.ts), and wakes the long polls waiting on that approval. A lost
 * connection is made again after a second; meanwhile a wait lasts at most 50 ms (the proxy asks again).
 */
import pg from 'pg';
import { APPROVALS_CHANNEL } from './pg-approval-store.js';

const RECONNECT_MS = 1_000;
/** How long a wait lasts while nothing is listened to. */
const WITHOUT_LISTEN_MS = 50;

export class ApprovalNotices {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly url: string) {}

  /** Connects and listens; throws when the first connection fails. */
  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (n) => this.wake(n.payload ?? ''));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${APPROVALS_CHANNEL}`);
    if (this.closed) return void client.end().catch(() => undefined);
    this.client = client;
  }

  /**
   * Resolves when approval `id` is announced as changed, or after `ms`; while the connection is
   * down, after WITHOUT_LISTEN_MS at most (the proxy then asks again: a poll, not a long one).
   */
  changed(id: string, ms: number): Promise<void> {
    const wait = this.client ? ms : Math.min(ms, WITHOUT_LISTEN_MS);
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, wait);
      set.add(done);
    });
  }

  private wake(id: string): void {
    for (const done of [...(this.waiters.get(id) ?? [])]) done();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    // Every waiter asks again now: a change may have been announced while the connection was down.
    for (const id of [...this.waiters.keys()]) this.wake(id);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => void this.start().catch(() => this.reconnectLater()), RECONNECT_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    for (const id of [...this.waiters.keys()]) this.wake(id);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
