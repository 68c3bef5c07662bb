/**
 * Splits a byte stream into newline-delimited frames without re-encoding them.
 *
 * A frame is the bytes before a `\n`; a trailing `\r` stays in the frame (JSON parsers treat it as
 * whitespace, and forwarding it keeps the relay byte-exact). Chunks are kept as a list of slices and
 * joined once per frame, so a frame split across many chunks costs one copy, and a multi-byte UTF-8
 * character split across chunks is never decoded half-way (nothing is decoded here at all).
 */

/** What a frame reader reports. Failures are callbacks, never throws: a bad frame must not stop the stream. */
export interface FrameHandler {
  /** A complete frame, without its `\n`. `terminated` is false only for bytes left at end of stream. */
  onFrame(frame: Buffer, terminated: boolean): void;
  /**
   * A frame longer than the limit. Its bytes were discarded as they arrived; `head` holds the first
   * bytes (up to `oversizeHeadBytes`) so the caller can still find a request id to answer.
   */
  onOversize?(info: OversizeFrame): void;
}

export interface OversizeFrame {
  /** The first bytes of the refused frame. */
  head: Buffer;
  /** How many bytes the frame had when it ended (or when the stream ended). */
  totalBytes: number;
  /** False when the stream ended before the frame's newline. */
  terminated: boolean;
}

export interface FrameReaderOptions {
  /** Longest frame accepted, in bytes (without the newline). */
  maxFrameBytes: number;
  /** How much of a refused frame is kept for id recovery. */
  oversizeHeadBytes?: number;
}

const NEWLINE = 0x0a;

/** Every frame of a whole byte string, split as a FrameReader splits a stream (the last one unterminated when bytes follow the last newline). */
export function framesOf(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  const reader = new FrameReader({ onFrame: (frame) => frames.push(frame) }, { maxFrameBytes: Number.POSITIVE_INFINITY });
  reader.push(bytes);
  reader.end();
  return frames;
}

export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Set while discarding the rest of an oversized frame. */
  private oversize: { head: Buffer; totalBytes: number } | undefined;
  private readonly maxFrameBytes: number;
  private readonly headBytes: number;

  constructor(
    private readonly handler: FrameHandler,
    options: FrameReaderOptions,
  ) {
    this.maxFrameBytes = options.maxFrameBytes;
    this.headBytes = options.oversizeHeadBytes ?? 64 * 1024;
  }

  /** Bytes of the frame currently being received (0 between frames). */
  get partialBytes(): number {
    return this.oversize ? this.oversize.totalBytes : this.pendingBytes;
  }

  /** Feeds one chunk; reports every frame it completes, in order. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.accumulate(chunk.subarray(start));
        return;
      }
      this.accumulate(chunk.subarray(start, nl));
      this.completeFrame(true);
      start = nl + 1;
    }
  }

  /** Ends the stream: bytes after the last newline become an unterminated frame. */
  end(): void {
    if (this.oversize || this.pendingBytes > 0) this.completeFrame(false);
  }

  private accumulate(part: Buffer): void {
    if (part.length === 0) return;
    if (this.oversize) {
      this.oversize.totalBytes += part.length;
      return;
    }
    if (this.pendingBytes + part.length > this.maxFrameBytes) {
      const head = Buffer.concat([...this.pending, part], this.pendingBytes + part.length);
      this.oversize = {
        head: Buffer.from(head.subarray(0, this.headBytes)),
        totalBytes: this.pendingBytes + part.length,
      };
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private completeFrame(terminated: boolean): void {
    if (this.oversize) {
      const info = this.oversize;
      this.oversize = undefined;
      this.handler.onOversize?.({ ...info, terminated });
      return;
    }
    const frame = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.handler.onFrame(frame, terminated);
  }
}
