/**
 * Collects what a stream carries as newline-terminated frames (newline included, bytes left at the
 * end as a last frame without one) and hands them out in order, waiting when none has come yet.
 * Frames are split by the proxy's own FrameReader, so a replay sees them as the proxy does.
 */
import type { Readable } from 'node:stream';
import { FrameReader } from '../framing/frame-reader.js';

const NEWLINE = Buffer.from('\n');

export class ByteChannel {
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(stream: Readable) {
    // Frames are copied: the reader hands out slices of the stream's chunks.
    const reader = new FrameReader(
      { onFrame: (frame, terminated) => this.frames.push(terminated ? Buffer.concat([frame, NEWLINE]) : Buffer.from(frame)) },
      { maxFrameBytes: Number.POSITIVE_INFINITY },
    );
    stream.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      this.wake();
    });
    stream.on('end', () => {
      reader.end();
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
