/** Appends events to a JSON Lines file (`telemetry.jsonl`), one event per line. */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { EventSink, RatriEvent } from './event.js';

export class JsonlSink implements EventSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  write(events: RatriEvent[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    return new Promise((resolve, reject) => {
      this.stream.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}
