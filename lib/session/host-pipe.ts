/**
 * Host → upstream: the host's bytes are split into frames (the only place host frames are split)
 * and each goes to the relay, which forwards it or answers it (docs/architecture.md). The frames of
 * one read leave in one writev, as a byte relay would send them, before monitor mode reads them
 * (Interceptor.afterHostChunk; when the upstream's stdin was full, once it has taken them). The
 * host is paused while the upstream's stdin is full. The pipe notices, once, that the host went away.
 */
import type { Readable, Writable } from 'node:stream';
import { FrameReader } from '../framing/frame-reader.js';
import type { Interceptor } from '../relay/interceptor.js';
import type { SessionRecorder } from '../replay/session-recorder.js';

export interface HostPipeOptions {
  hostIn: Readable;
  hostOut: Writable;
  upstreamIn: Writable;
  interceptor: Interceptor;
  recorder?: SessionRecorder;
  maxFrameBytes: number;
  /** The host closed its input, or one of its streams broke: called once. */
  onGone(): void;
}

export class HostPipe {
  readonly reader: FrameReader;
  /** True once the host closed its input (or its streams broke). */
  ended = false;

  constructor(private readonly o: HostPipeOptions) {
    const { hostIn, hostOut, upstreamIn, interceptor, recorder } = o;
    upstreamIn.on('drain', () => {
      interceptor.afterHostChunk(); // frames read later (below)
      hostIn.resume();
    });
    upstreamIn.on('error', () => undefined); // EPIPE after the upstream died: its exit is handled by the session
    this.reader = new FrameReader(
      {
        onFrame: (frame, terminated) => {
          recorder?.fromHost(frame, terminated);
          interceptor.onHostFrame(frame, terminated);
        },
        onOversize: (info) => interceptor.onHostOversize(info),
      },
      { maxFrameBytes: o.maxFrameBytes },
    );
    hostIn.on('data', (chunk: Buffer) => {
      upstreamIn.cork();
      this.reader.push(chunk);
      upstreamIn.uncork();
      // A write the upstream has not taken yet (a large frame) goes on while the event loop runs:
      // reading its frames now would hold it up (docs/performance.md#off-the-frames-way-and-a-smaller-row-issue-13-this-round).
      if (upstreamIn.writableNeedDrain) interceptor.readLater();
      else interceptor.afterHostChunk();
    });
    hostIn.on('end', () => {
      this.reader.end();
      interceptor.afterHostChunk();
      recorder?.hostClosed();
      this.gone();
    });
    hostIn.on('error', () => this.gone());
    hostOut.on('error', () => this.gone());
  }

  private gone(): void {
    if (this.ended) return;
    this.ended = true;
    this.o.onGone();
  }
}
