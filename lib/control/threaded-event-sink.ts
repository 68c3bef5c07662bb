/**
 * The embedded control plane's event sink: batches go to a worker thread (event-writer-thread.ts)
 * that stores them, so storing costs the proxy's thread only the hand-over of the batch. The
 * worker starts with the first batch; `close` waits for every batch to be stored, then ends it.
 */
import { Worker } from 'node:worker_threads';
import type { EventSink, RatriEvent } from '../telemetry/event.js';
import type { WriteReply, WriteRequest } from './event-writer-thread.js';

export class ThreadedEventSink implements EventSink {
  private worker: Worker | undefined;
  private failure: Error | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();

  constructor(private readonly storePath: string) {}

  private start(): Worker {
    const worker = new Worker(new URL('./event-writer-thread.js', import.meta.url), { workerData: { path: this.storePath } });
    worker.on('message', (reply: WriteReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`storing events in ${this.storePath}: ${reply.error}`));
      else waiter?.resolve();
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const waiter of this.waiting.values()) waiter.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new Error(`the event writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (this.worker) fail(new Error(`the event writer thread exited (code ${code})`));
    });
    worker.unref(); // it never keeps the proxy alive; `close` is what ends it
    return worker;
  }

  write(events: RatriEvent[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.worker ??= this.start();
    const request: WriteRequest = { id: ++this.nextId, events };
    const stored = new Promise<void>((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.worker!.postMessage(request);
    });
    this.inFlight.add(stored);
    const forget = (): void => void this.inFlight.delete(stored);
    stored.then(forget, forget);
    return stored;
  }

  private readonly inFlight = new Set<Promise<void>>();

  /** Resolves once every batch written so far is stored and the thread has closed the store. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close'); // handled after every batch sent before it
    await Promise.allSettled([...this.inFlight]);
    await exited;
  }
}
