/**
 * The outbox of a remote control plane: event batches the API could not take right away wait in
 * the `outbox` table of the local SQLite store and are uploaded oldest-first by a background drain,
 * so an API outage (or a proxy that exits during one) loses no event.
 *
 * Several proxy processes may share one store. A drain claims rows with a lease (one UPDATE … RETURNING),
 * deletes them only after the API accepted them, and clears the lease when the upload failed; the
 * lease of a drain that crashed simply runs out. Uploads are therefore at-least-once, and the API
 * stores each event exactly once because it is idempotent by event id.
 */

import { withDeadline } from '../node/deadline.js';
import type { EventSink, RatriEvent } from '../telemetry/event.js';
import { EVENT_BATCH_MAX } from './api-protocol.js';
import type { Db } from './store.js';

/** Events the outbox keeps at most; beyond it the oldest are dropped (and counted). */
export const OUTBOX_CAPACITY = 100_000;
/** Longer than one upload may take, so a live drain never loses its claim to another process. */
const LEASE_MS = 30_000;
/** The timeout of one upload. */
const UPLOAD_TIMEOUT_MS = 5_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 10_000;

/** Rows taken out for one upload. */
export interface ClaimedBatch {
  seqs: number[];
  events: RatriEvent[];
}

/** The `outbox` table. */
export class Outbox {
  /** Events dropped because the outbox was full. */
  dropped = 0;
  private readonly insertRow;
  private readonly countRows;
  private readonly anyRow;
  private readonly dropOldest;
  private readonly claimRows;
  private readonly deleteRows;
  private readonly releaseRows;
  private readonly addAll;

  constructor(
    private readonly db: Db,
    /** Events kept at most. */
    readonly capacity = OUTBOX_CAPACITY,
  ) {
    this.insertRow = db.prepare('INSERT INTO outbox (event) VALUES (?)');
    this.countRows = db.prepare('SELECT count(*) FROM outbox').pluck();
    this.anyRow = db.prepare('SELECT 1 FROM outbox LIMIT 1').pluck();
    this.dropOldest = db.prepare('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)');
    this.claimRows = db.prepare(
      `UPDATE outbox SET lease_until = ? WHERE seq IN
         (SELECT seq FROM outbox WHERE lease_until < ? ORDER BY seq LIMIT ?)
       RETURNING seq, event`,
    );
    // json_each keeps one prepared statement for any number of ids.
    this.deleteRows = db.prepare('DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))');
    this.releaseRows = db.prepare('UPDATE outbox SET lease_until = 0 WHERE seq IN (SELECT value FROM json_each(?))');
    this.addAll = db.transaction((events: RatriEvent[]): number => {
      for (const e of events) this.insertRow.run(JSON.stringify(e));
      const over = (this.countRows.get() as number) - this.capacity;
      return over > 0 ? this.dropOldest.run(over).changes : 0;
    });
  }

  /** Appends a batch (one transaction); returns how many of the oldest events made room for it. */
  add(events: RatriEvent[]): number {
    if (events.length === 0) return 0;
    const dropped = this.addAll.immediate(events);
    this.dropped += dropped;
    return dropped;
  }

  /** Takes up to `limit` unleased rows, oldest first, for `leaseMs`. */
  claim(limit: number, leaseMs = LEASE_MS, now = Date.now()): ClaimedBatch {
    const rows = this.claimRows.all(now + leaseMs, now, limit) as Array<{ seq: number; event: string }>;
    rows.sort((a, b) => a.seq - b.seq); // RETURNING promises no order
    const batch: ClaimedBatch = { seqs: [], events: [] };
    const unreadable: number[] = [];
    for (const row of rows) {
      try {
        batch.events.push(JSON.parse(row.event) as RatriEvent);
        batch.seqs.push(row.seq);
      } catch {
        unreadable.push(row.seq); // cannot happen with rows we wrote; never let one block the rest
      }
    }
    if (unreadable.length > 0) {
      this.remove(unreadable);
      this.dropped += unreadable.length;
    }
    return batch;
  }

  /** Deletes uploaded rows. */
  remove(seqs: number[]): void {
    if (seqs.length > 0) this.deleteRows.run(JSON.stringify(seqs));
  }

  /** Gives rows back (their upload failed) so the next drain, of any process, takes them at once. */
  release(seqs: number[]): void {
    if (seqs.length > 0) this.releaseRows.run(JSON.stringify(seqs));
  }

  /** Rows waiting, leased or not. */
  get size(): number {
    return this.countRows.get() as number;
  }

  /** True when no row waits (one indexed read: the sink asks before every post). */
  isEmpty(): boolean {
    return this.anyRow.get() === undefined;
  }

  /** False once the store is closed. */
  get usable(): boolean {
    return this.db.open;
  }
}

/** What became of one upload. */
export type UploadResult =
  | { outcome: 'stored' }
  /** The API could not take it now (unreachable, timeout, 5xx, 401…): try again later. */
  | { outcome: 'retry'; reason: string }
  /** The API will never take it (400, or 413 for a single event): it is dropped. */
  | { outcome: 'rejected'; reason: string };

/** Sends one batch to the API. */
export type Uploader = (events: RatriEvent[], timeoutMs: number) => Promise<UploadResult>;

/**
 * The event sink of the remote control plane: a batch is posted at once while the outbox is empty;
 * when that fails, or while older events still wait, it goes to the outbox (so order is kept) and
 * the drain takes over, retrying every 1 s, backing off to 10 s while the API stays away.
 */
export class OutboxSink implements EventSink {
  private readonly inFlight = new Map<Promise<void>, RatriEvent[]>();
  private timer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private draining: Promise<void> | undefined;
  private outage: string | undefined;
  private closed = false;
  private droppedLogged = false;
  /** Whether this run said on stderr that events wait in the outbox (said once, with what will happen). */
  private toldOfOutbox = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly upload: Uploader,
    private readonly log: (message: string) => void,
    /** The store's path, for messages. */
    private readonly where: string,
  ) {
    if (!outbox.isEmpty()) this.schedule(0); // left by an earlier proxy on this store
  }

  /** Posts a batch, or keeps it in the outbox; rejects only when the store is already closed. */
  write(events: RatriEvent[]): Promise<void> {
    const sending = this.send(events).finally(() => this.inFlight.delete(sending));
    this.inFlight.set(sending, events);
    return sending;
  }

  private async send(events: RatriEvent[]): Promise<void> {
    if (!this.outbox.usable) throw new Error(`${events.length} event(s) arrived after the control plane was closed`);
    if (!this.outbox.isEmpty()) return this.keep(events, 'older events are still waiting');
    const result = await this.upload(events, UPLOAD_TIMEOUT_MS);
    if (result.outcome === 'retry') this.keep(events, result.reason);
    else if (result.outcome === 'rejected')
      this.log(`the control plane refused ${events.length} event(s), which are dropped: ${result.reason}`);
  }

  /** Puts a batch in the outbox and makes sure a drain will come. */
  private keep(events: RatriEvent[], reason: string): void {
    if (!this.outbox.usable) return;
    this.outbox.add(events);
    if (this.outbox.dropped > 0 && !this.droppedLogged) {
      this.droppedLogged = true;
      this.log(`the outbox of ${this.where} is full (${this.outbox.capacity} events); the oldest are being dropped`);
    }
    if (this.outage === undefined && reason !== 'older events are still waiting') {
      this.outage = reason;
      if (!this.toldOfOutbox) this.log(outboxMessage(reason, this.where));
      this.toldOfOutbox = true;
    }
    this.schedule(this.retryMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.draining || this.closed) return;
    // Unref'd: a drain never keeps the process alive; whatever is left stays on disk for the next proxy.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runDrain();
    }, delayMs).unref();
  }

  private runDrain(): void {
    this.draining = this.drain(Infinity).then((state) => {
      this.draining = undefined;
      if (state === 'failed') {
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
        return this.schedule(this.retryMs);
      }
      this.retryMs = FIRST_RETRY_MS;
      // Looked at again: a batch may have been kept between the drain's last look and now.
      if (state === 'empty' && this.outbox.usable && this.outbox.isEmpty()) {
        if (this.outage !== undefined) this.log('the control plane answers again; the events that waited in the outbox are uploaded');
        this.outage = undefined;
        return;
      }
      this.schedule(this.retryMs); // rows another process is uploading: look again soon, in case it dies
    });
  }

  /** Uploads the outbox oldest-first until it is empty, an upload fails, or `until` (epoch ms) passes. */
  private async drain(until: number): Promise<'empty' | 'failed' | 'leased'> {
    try {
      for (;;) {
        const left = until - Date.now();
        if (left <= 0 || !this.outbox.usable) return 'failed';
        const batch = this.outbox.claim(EVENT_BATCH_MAX);
        if (batch.seqs.length === 0) return this.outbox.isEmpty() ? 'empty' : 'leased';
        const result = await this.upload(batch.events, Math.min(UPLOAD_TIMEOUT_MS, left));
        if (!this.outbox.usable) return 'failed'; // closed meanwhile: the lease runs out, the next proxy uploads them
        if (result.outcome === 'retry') {
          this.outbox.release(batch.seqs);
          return 'failed';
        }
        if (result.outcome === 'rejected')
          this.log(`the control plane refused ${batch.events.length} queued event(s), which are dropped: ${result.reason}`);
        this.outbox.remove(batch.seqs);
      }
    } catch (err) {
      this.log(`the outbox of ${this.where} failed: ${(err as Error).message}`);
      return 'failed';
    }
  }

  /** True once this run has said that events wait in the outbox: the control plane says nothing more of it at exit. */
  get toldOfWaitingEvents(): boolean {
    return this.toldOfOutbox;
  }

  /** The queue's own close: nothing to do, the control plane's close() drains the outbox. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Stops the background drain, waits for posts in flight and uploads the outbox until `deadlineMs`
   * passes. A post still unanswered at the deadline is copied to the outbox (if it did arrive, the
   * API drops the copy by event id). Returns how many events are left on disk.
   */
  async shutdown(deadlineMs: number): Promise<number> {
    const until = Date.now() + deadlineMs;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await settledBefore([...this.inFlight.keys(), this.draining], until);
    if (!this.outbox.usable) return 0;
    for (const events of this.inFlight.values()) this.outbox.add(events);
    this.inFlight.clear();
    if (!this.outbox.isEmpty()) await settledBefore([this.drain(until)], until);
    return this.outbox.size;
  }
}

/** The one message about events waiting: why, where, and what becomes of them. */
function outboxMessage(reason: string, where: string): string {
  return (
    `cannot upload events (${reason}); they are kept in the outbox of ${where}, and uploaded when the control plane answers: ` +
    'by this proxy, which keeps trying every 1 to 10 s while it runs, or else by the next ratri proxy that uses this store'
  );
}

/** Waits for every promise to settle, or until `until` (epoch ms), whichever comes first. */
async function settledBefore(promises: Array<Promise<unknown> | undefined>, until: number): Promise<void> {
  await withDeadline(Promise.allSettled(promises), until - Date.now());
}
