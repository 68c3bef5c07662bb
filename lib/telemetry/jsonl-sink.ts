/** Appends events to a JSON Lines file (`telemetry.jsonl`), one event per line. */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates the missing folders above `path` one level at a time. (`mkdirSync(…, { recursive: true })`
 * spins forever on some file systems, /proc among them, where a level can neither exist nor be made.)
 */
function makeParentFolders(path: string): void {
  const missing: string[] = [];
  for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) {
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) mkdirSync(dir);
}
import type { EventSink, RatriEvent } from './event.js';

export class JsonlSink implements EventSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    makeParentFolders(path);
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  write(events: RatriEvent[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // Each line is encoded on its own and the buffers concatenated: joining hundreds of lines into
    // one string first, then encoding it, costs several times more CPU.
    const lines = events.map((e) => Buffer.from(`${JSON.stringify(e)}\n`));
    return new Promise((resolve, reject) => {
      this.stream.write(Buffer.concat(lines), (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}
