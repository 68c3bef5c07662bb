/**
 * Writes frames to a byte stream, and relays raw bytes from another stream into it without letting
 * a frame of our own land in the middle of a relayed frame.
 *
 * The relay path is a plain byte copy: chunks go out as they came in. While a relayed frame is only
 * half written (the last chunk did not end in `\n`), frames of our own wait in a queue and are
 * written right after the newline that completes it.
 */
import type { Writable } from 'node:stream';

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');

export class FrameWriter {
  /** True while a relayed frame has started but its newline has not been written yet. */
  private midFrame = false;
  private queued: Buffer[] = [];
  private closed = false;

  constructor(private readonly out: Writable) {
    out.on('error', () => {
      this.closed = true;
    });
    out.on('close', () => {
      this.closed = true;
    });
  }

  /** Frames of our own waiting for a relayed frame to end. */
  get queuedFrames(): number {
    return this.queued.length;
  }

  /** False once the destination is closed or broken; writes are then dropped. */
  get writable(): boolean {
    return !this.closed && !this.out.destroyed && this.out.writable;
  }

  /**
   * Copies relayed bytes as they are. Returns false when the destination asks the source to pause
   * (the caller resumes on `drain`).
   */
  relay(chunk: Buffer): boolean {
    if (!this.writable || chunk.length === 0) return true;
    if (this.queued.length > 0 && this.midFrame) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl !== -1) {
        this.out.write(chunk.subarray(0, nl + 1));
        this.midFrame = false;
        this.flushQueued();
        return this.relay(chunk.subarray(nl + 1));
      }
    }
    this.midFrame = chunk[chunk.length - 1] !== NEWLINE;
    return this.out.write(chunk);
  }

  /**
   * Writes one frame of its own followed by `\n` (or without it when `terminated` is false, used to
   * forward bytes left at the end of a stream exactly as they were).
   */
  writeFrame(frame: Buffer, terminated = true): boolean {
    if (!this.writable) return true;
    if (this.midFrame) {
      this.queued.push(terminated ? Buffer.concat([frame, NEWLINE_BUFFER]) : frame);
      return true;
    }
    if (!terminated) return this.out.write(frame);
    // Corked so the frame and its newline leave in one writev; uncorked at once, so nothing waits a tick.
    this.out.cork();
    this.out.write(frame);
    const ok = this.out.write(NEWLINE_BUFFER);
    this.out.uncork();
    return ok;
  }

  /** Called when the relayed source ended: a half frame will never complete, so queued frames go now. */
  endRelay(): void {
    this.midFrame = false;
    this.flushQueued();
  }

  /** Ends the destination after everything queued was written. */
  end(): Promise<void> {
    this.endRelay();
    if (!this.writable) return Promise.resolve();
    return new Promise((resolve) => {
      this.out.end(() => resolve());
    });
  }

  private flushQueued(): void {
    const frames = this.queued;
    this.queued = [];
    for (const frame of frames) this.out.write(frame);
  }
}
