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
    const lines = events.map((e) => JSON.stringify(e));
    return new Promise((resolve, reject) => {
      this.stream.write(encodeLines(lines), (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}

/**
 * The lines as UTF-8, each followed by a newline, in one buffer: each line is encoded into it on its
 * own (joining hundreds of lines into one string first, then encoding it, costs several times more
 * CPU), with no buffer per line and no copy to join them (half the CPU of that:
 * docs/performance.md#per-call-cpu-issue-13).
 */
function encodeLines(lines: string[]): Buffer {
  let bytes = 0;
  for (const line of lines) bytes += Buffer.byteLength(line) + 1;
  const buffer = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const line of lines) {
    at += buffer.write(line, at);
    buffer[at++] = 0x0a;
  }
  return at === bytes ? buffer : buffer.subarray(0, at); // never a byte the lines did not write
}
