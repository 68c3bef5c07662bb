/** Appends events to a JSON Lines file (`telemetry.jsonl`), one event per line; a new file is 0600. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { makeParentFolders, PRIVATE_FILE_MODE } from '../node/private-files.js';
import type { EventSink, RatriEvent } from './event.js';

export class JsonlSink implements EventSink {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly path: string) {
    makeParentFolders(path);
    this.stream = createWriteStream(path, { flags: 'a', mode: PRIVATE_FILE_MODE });
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
