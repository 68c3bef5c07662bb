/**
 * `ratri mcp proxy --record FILE`: writes what crosses the proxy, in order, in the golden format,
 * so a real session can become a regression test (`ratri replay FILE`).
 */
import { writeSync } from 'node:fs';
import { openPrivateFile } from '../private-files.js';
import { frameFields } from './golden-format.js';

export class SessionRecorder {
  private readonly fd: number;

  constructor(file: string, config: Record<string, unknown>) {
    const { upstream: _upstream, servers: _servers, ...rest } = config;
    this.fd = openPrivateFile(file, 'w', { tighten: true }); // overwritten whole, so made 0600 even if it existed
    this.line({ golden: 1, description: 'recorded by ratri mcp proxy --record', config: rest });
  }

  private line(fields: Record<string, unknown>): void {
    writeSync(this.fd, JSON.stringify(fields) + '\n');
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
