/**
 * vscode-jsonrpc over MCP's stdio framing. vscode-jsonrpc frames messages with `Content-Length`
 * headers by default; MCP's stdio transport is one JSON-RPC message per line. This reader and
 * writer let `createMessageConnection` speak the latter: frames are split by our own FrameReader
 * (the proxy's, so the doctor sees the upstream's bytes exactly as the proxy would), and each
 * message is written as `JSON.stringify(message) + "\n"`.
 */
import type { Readable, Writable } from 'node:stream';
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  type DataCallback,
  Disposable,
  type Message,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { FrameReader } from '../framing/frame-reader.js';

/** A line the upstream wrote to stdout that is not a JSON-RPC message (MCP allows none). */
export class NotJsonRpcLineError extends Error {
  constructor(readonly line: string) {
    super(`not a JSON-RPC message: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`);
    this.name = 'NotJsonRpcLineError';
  }
}

/** Reads newline-delimited JSON-RPC messages from a stream (an upstream's stdout). */
export class NewlineMessageReader extends AbstractMessageReader {
  private detach: (() => void) | undefined;

  constructor(
    private readonly readable: Readable,
    private readonly maxFrameBytes: number,
  ) {
    super();
  }

  /** Starts reading; frames that are not JSON objects are reported with `onError`, never thrown. */
  listen(callback: DataCallback): Disposable {
    const frames = new FrameReader(
      {
        onFrame: (frame) => {
          const text = frame.toString('utf8');
          if (text.trim() === '') return; // blank lines carry nothing; MCP servers rarely write them, but they are harmless
          let message: unknown;
          try {
            message = JSON.parse(text);
          } catch {
            this.fireError(new NotJsonRpcLineError(text.trim()));
            return;
          }
          // vscode-jsonrpc handles single messages only; a batch from the server is reported, not half-read.
          if (message === null || typeof message !== 'object' || Array.isArray(message)) {
            this.fireError(new NotJsonRpcLineError(text.trim()));
            return;
          }
          callback(message as Message);
        },
        onOversize: (info) =>
          this.fireError(new Error(`a line of ${info.totalBytes} bytes is longer than maxFrameBytes (${this.maxFrameBytes})`)),
      },
      { maxFrameBytes: this.maxFrameBytes },
    );
    const onData = (chunk: Buffer): void => frames.push(chunk);
    const onEnd = (): void => {
      frames.end();
      this.fireClose();
    };
    const onError = (err: Error): void => this.fireError(err);
    this.readable.on('data', onData);
    this.readable.once('end', onEnd);
    this.readable.on('error', onError);
    this.detach = () => {
      this.readable.off('data', onData);
      this.readable.off('end', onEnd);
      this.readable.off('error', onError);
    };
    return Disposable.create(() => this.detach?.());
  }

  override dispose(): void {
    this.detach?.();
    super.dispose();
  }
}

/** Writes JSON-RPC messages, one per line, to a stream (an upstream's stdin). */
export class NewlineMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private readonly onStreamError = (err: Error): void => this.fireError(err);

  constructor(private readonly writable: Writable) {
    super();
    // An upstream that exits makes our next write fail with EPIPE; without a listener that error
    // would crash the doctor instead of being reported by the check that was running.
    writable.on('error', this.onStreamError);
  }

  write(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.writable.destroyed || this.writable.writableEnded) {
        const err = new Error("the upstream's stdin is closed");
        this.fireError(err, message);
        reject(err);
        return;
      }
      this.writable.write(`${JSON.stringify(message)}\n`, (err) => {
        if (err) {
          this.fireError(err, message);
          reject(err);
        } else resolve();
      });
    });
  }

  /** Leaves the stream open: closing the upstream's stdin is part of stopping it, which its owner does. */
  end(): void {}

  override dispose(): void {
    this.writable.off('error', this.onStreamError);
    super.dispose();
  }
}
