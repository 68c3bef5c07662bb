/**
 * Writes frames to a byte stream, and relays raw bytes from another stream into it without letting
 * a frame of our own land in the middle of a relayed frame, and without writing half a frame.
 *
 * The relay path is a byte copy that goes out line by line: the bytes after a chunk's last `\n` are
 * held until the newline that ends their frame arrives, so a source that dies in the middle of a
 * frame leaves no broken line behind (docs/errors.md, "-32603"). A frame longer than the hold limit
 * (maxFrameBytes: such frames are relayed uninspected) streams through instead. While a relayed
 * frame is unfinished, frames of our own wait in a queue and are written right after it.
 */
import type { Writable } from 'node:stream';

const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.from('\n');

/** What became of a relayed frame its source left without a newline. */
export interface UnfinishedFrame {
  /** `delivered`: a whole message, written with a newline; `dropped`: never written; `cut`: too long to hold, partly written, then ended with a newline. */
  outcome: 'delivered' | 'dropped' | 'cut';
  bytes: number;
}

export class FrameWriter {
  /** The unfinished relayed frame's bytes, not written yet. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes written of an unfinished relayed frame too long to hold (0 when none). */
  private streamedBytes = 0;
  private queued: Buffer[] = [];
  private closed = false;

  /** `holdLimit`: the longest unfinished frame held back; a longer one streams through. */
  constructor(
    private readonly out: Writable,
    private readonly holdLimit = Infinity,
  ) {
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

  /** True while a relayed frame has started but its newline has not come yet. */
  private get midFrame(): boolean {
    return this.heldBytes > 0 || this.streamedBytes > 0;
  }

  /**
   * Copies relayed bytes, unchanged, up to the chunk's last newline; the rest waits for its own.
   * Returns false when the destination asks the source to pause (the caller resumes on `drain`).
   */
  relay(chunk: Buffer): boolean {
    if (!this.writable || chunk.length === 0) return true;
    const nl = chunk.lastIndexOf(NEWLINE);
    if (nl === -1) return this.hold(chunk);
    this.out.cork(); // the held bytes, the rest of their frame and the frames after it leave in one writev
    for (const part of this.held) this.out.write(part);
    const ok = this.out.write(nl === chunk.length - 1 ? chunk : chunk.subarray(0, nl + 1));
    this.held = [];
    this.heldBytes = 0;
    this.streamedBytes = 0;
    this.flushQueued();
    this.out.uncork();
    return nl === chunk.length - 1 ? ok : this.hold(chunk.subarray(nl + 1)) && ok;
  }

  /** Bytes of an unfinished frame: held, or written at once once the frame is too long to hold. */
  private hold(part: Buffer): boolean {
    if (this.streamedBytes > 0) {
      this.streamedBytes += part.length;
      return this.out.write(part);
    }
    this.held.push(part);
    this.heldBytes += part.length;
    if (this.heldBytes <= this.holdLimit) return true;
    const parts = this.held;
    this.streamedBytes = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    let ok = true;
    this.out.cork();
    for (const p of parts) ok = this.out.write(p);
    this.out.uncork();
    return ok;
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

  /**
   * Called when the relayed source ended: a frame it left unfinished will never complete. Held, it
   * is written with a newline when `complete` (it is a whole message without its newline) and
   * dropped otherwise; partly written already (too long to hold), it gets a newline, so that frames
   * of our own start on a line of their own. Then the queued frames go. Says what became of it.
   */
  endRelay(complete = false): UnfinishedFrame | undefined {
    let unfinished: UnfinishedFrame | undefined;
    if (this.streamedBytes > 0) unfinished = { outcome: 'cut', bytes: this.streamedBytes };
    else if (this.heldBytes > 0) unfinished = { outcome: complete ? 'delivered' : 'dropped', bytes: this.heldBytes };
    if (this.writable && unfinished && unfinished.outcome !== 'dropped') {
      for (const part of this.held) this.out.write(part);
      this.out.write(NEWLINE_BUFFER);
    }
    this.held = [];
    this.heldBytes = 0;
    this.streamedBytes = 0;
    if (this.writable) this.flushQueued();
    return unfinished;
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
