/**
 * A bounded in-memory queue between the data path and the sinks. `push` never waits: events are
 * flushed in batches (every 20 ms, or at once when a batch is full), a full queue drops its oldest
 * event and counts it, and `close` flushes what is left within a deadline.
 */

import { withDeadline } from '../node/deadline.js';
import { expandCalls } from './call-event.js';
import type { EventSink, QueuedEvent, RatriEvent } from './event.js';

export interface QueueStats {
  queued: number;
  written: number;
  dropped: number;
  failedBatches: number;
}

export class EventQueue {
  private buffer: QueuedEvent[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly stats: QueueStats = { queued: 0, written: 0, dropped: 0, failedBatches: 0 };

  constructor(
    private readonly sinks: EventSink[],
    private readonly capacity = 10_000,
    private readonly batchSize = 500,
    private readonly onSinkError: (err: Error) => void = () => {},
    /** How long an event may wait for others to share its write. */
    private readonly flushDelayMs = 20,
  ) {}

  /** False when events would go nowhere; producers check it to skip building them. */
  get hasSinks(): boolean {
    return this.sinks.length > 0;
  }

  push(event: QueuedEvent): void {
    if (this.sinks.length === 0) return;
    if (this.buffer.length >= this.capacity) {
      this.buffer.shift();
      this.stats.dropped++;
    }
    this.buffer.push(event);
    this.stats.queued++;
    if (this.buffer.length >= this.batchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      setImmediate(() => void this.flush());
    } else if (!this.timer) {
      // A short wait gathers the events of many calls into one write: one system call and one
      // completion per batch instead of per call. The timer never keeps the process alive.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushDelayMs).unref();
    }
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = this.drain();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      let events: RatriEvent[] | undefined; // the batch with its calls as events, made once for the sinks that need it
      const results = await Promise.allSettled(
        this.sinks.map((s) => (s.writeCalls ? s.writeCalls(batch) : s.write((events ??= expandCalls(batch))))),
      );
      for (const r of results) {
        if (r.status === 'rejected') {
          this.stats.failedBatches++;
          this.onSinkError(r.reason as Error);
        }
      }
      this.stats.written += batch.length;
    }
  }

  /** Flushes and closes the sinks, giving up after `deadlineMs`. */
  async close(deadlineMs = 2000): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await withDeadline(
      (async () => {
        await this.flush();
        await Promise.allSettled(this.sinks.map((s) => s.close()));
      })(),
      deadlineMs,
    );
  }
}
