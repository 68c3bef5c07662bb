/**
 * `ratri mcp proxy --record FILE`: writes what crosses the proxy, in order, in the golden format,
 * so a real session can become a regression test (`ratri replay FILE`).
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import { frameFields } from './golden-format.js';

export class SessionRecorder {
  constructor(
    private readonly file: string,
    config: Record<string, unknown>,
  ) {
    const { upstream: _upstream, servers: _servers, ...rest } = config;
    writeFileSync(file, JSON.stringify({ golden: 1, description: 'recorded by ratri mcp proxy --record', config: rest }) + '\n');
  }

  private line(fields: Record<string, unknown>): void {
    appendFileSync(this.file, JSON.stringify(fields) + '\n');
  }

  fromHost(frame: Buffer, terminated: boolean): void {
    this.line({ from: 'host', ...frameFields(frame, terminated) });
  }

  fromUpstream(frame: Buffer, terminated: boolean): void {
    this.line({ from: 'upstream', ...frameFields(frame, terminated) });
  }

  toUpstream(frame: Buffer, terminated: boolean): void {
    this.line({ to: 'upstream', ...frameFields(frame, terminated) });
  }

  toHost(frame: Buffer, terminated: boolean): void {
    this.line({ to: 'host', ...frameFields(frame, terminated) });
  }

  hostClosed(): void {
    this.line({ close: 'host' });
  }

  upstreamExited(code: number): void {
    this.line({ exit: code });
  }
}
