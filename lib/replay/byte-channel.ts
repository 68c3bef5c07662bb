/**
 * Collects what a stream carries as newline-terminated frames (newline included, bytes left at the
 * end as a last frame without one) and hands them out in order, waiting when none has come yet.
 */
import type { Readable } from 'node:stream';

export class ByteChannel {
  private readonly frames: Buffer[] = [];
  private partial: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      let data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
      let nl: number;
      while ((nl = data.indexOf(0x0a)) !== -1) {
        this.frames.push(Buffer.from(data.subarray(0, nl + 1)));
        data = data.subarray(nl + 1);
      }
      this.partial = Buffer.from(data);
      this.wake();
    });
    stream.on('end', () => {
      if (this.partial.length > 0) this.frames.push(this.partial);
      this.partial = Buffer.alloc(0);
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next frame, or undefined when none arrives within the timeout (or the stream ended). */
  async next(timeoutMs: number): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.frames.shift();
  }

  /** Every frame received and not yet taken. */
  drain(): Buffer[] {
    return this.frames.splice(0);
  }
}
