/**
 * Upstream → host: bytes are relayed first, line by line (FrameWriter.relay), and a tap reassembles
 * frames for the relay afterwards. In enforce mode with result rules or hideBlockedTools, the tap's
 * frames are what the host gets (docs/policy.md#phases-call-and-result). A frame the upstream left
 * without its newline reaches the host only if it is a whole message (docs/errors.md).
 */
import type { Readable, Writable } from 'node:stream';
import { FrameReader } from '../framing/frame-reader.js';
import type { FrameWriter, UnfinishedFrame } from '../framing/frame-writer.js';
import { readFrame } from '../jsonrpc/message.js';
import type { Interceptor } from '../relay/interceptor.js';
import type { SessionRecorder } from '../replay/session-recorder.js';
import type { Telemetry } from '../telemetry/telemetry.js';

export interface UpstreamPipeOptions {
  upstreamOut: Readable;
  hostOut: Writable;
  toHost: FrameWriter;
  interceptor: Interceptor;
  recorder?: SessionRecorder;
  maxFrameBytes: number;
  /** "upstream \"cmd\"", for messages. */
  who: string;
  log(message: string): void;
  telemetry: Telemetry;
}

export class UpstreamPipe {
  readonly tap: FrameReader;
  /** What the upstream left after its last newline, once its output ended. */
  private tail: Buffer | undefined;
  private readonly gated: boolean;

  constructor(private readonly o: UpstreamPipeOptions) {
    const { interceptor, recorder, upstreamOut, hostOut, toHost } = o;
    const gated = interceptor.gatesAnswers;
    this.gated = gated;
    this.tap = new FrameReader(
      {
        onFrame: (frame, terminated) => {
          if (!terminated) return void (this.tail = frame);
          recorder?.fromUpstream(frame, true);
          this.toRelay(frame);
        },
        // One cut off by the end of the output answers nothing: its request gets -32603 (at the exit).
        onOversize: (info) => info.terminated && (gated ? interceptor.onUpstreamOversizeGated(info) : interceptor.onUpstreamOversize(info)),
      },
      { maxFrameBytes: o.maxFrameBytes },
    );
    const pauseUntilDrained = (): void => {
      upstreamOut.pause();
      hostOut.once('drain', () => upstreamOut.resume());
    };
    upstreamOut.on('data', (chunk: Buffer) => {
      if (gated) {
        this.tap.push(chunk);
        if (hostOut.writableNeedDrain) pauseUntilDrained();
        return;
      }
      if (!toHost.relay(chunk)) pauseUntilDrained();
      this.tap.push(chunk);
    });
    upstreamOut.on('end', () => this.ended());
  }

  /** A whole upstream frame: gated (the relay writes it), or already relayed (the relay reads it). */
  private toRelay(frame: Buffer): void {
    if (this.gated) return this.o.interceptor.onUpstreamFrameGated(frame);
    this.o.recorder?.toHost(frame, true);
    this.o.interceptor.onUpstreamFrame(frame);
  }

  private ended(): void {
    const { recorder, toHost } = this.o;
    this.tap.end(); // sets the tail, if the output ended without a newline
    const tail = this.tail;
    const kind = tail && readFrame(tail).kind;
    const whole = kind === 'single' || kind === 'batch';
    const held: UnfinishedFrame | undefined = tail && { outcome: whole ? 'delivered' : 'dropped', bytes: tail.length };
    const unfinished = this.gated ? held : toHost.endRelay(whole);
    if (tail) recorder?.fromUpstream(tail, false);
    if (tail && unfinished?.outcome === 'delivered') this.toRelay(tail);
    if (unfinished && unfinished.outcome !== 'delivered' && kind !== 'blank') this.reportUnfinished(unfinished);
  }

  /** The output ended in the middle of a frame that was not relayed whole: stderr and a warning say what the host got. */
  private reportUnfinished(unfinished: UnfinishedFrame): void {
    const reason =
      unfinished.outcome === 'dropped'
        ? `output ended in the middle of a frame (${unfinished.bytes} bytes without a newline): not a complete JSON-RPC message, not relayed`
        : `output ended in the middle of a frame longer than maxFrameBytes, ${unfinished.bytes} bytes of which were already relayed: the line was ended there, so that ratri's own answers stay on lines of their own`;
    this.o.log(`${this.o.who}: ${reason}`);
    this.o.telemetry.warning('unfinished_frame', reason, {
      direction: 'upstream',
      frameBytes: unfinished.bytes,
      relayed: unfinished.outcome === 'cut',
    });
  }
}
