/**
 * `ratri mcp proxy --record FILE`: writes what crosses the proxy, in order, in the golden format,
 * so a real session can become a regression test (`ratri replay FILE`). The values of `redactKeys`
 * are redacted in what it writes (`recording-redactor.ts`) unless `--record-unredacted`.
 */
import { writeSync } from 'node:fs';
import { openPrivateFile } from '../node/private-files.js';
import { frameFields } from './golden-format.js';
import { makeFrameRedactor, type RecordedFrame } from './recording-redactor.js';

type Direction = { from: 'host' | 'upstream' } | { to: 'host' | 'upstream' };

export class SessionRecorder {
  private readonly fd: number;
  private readonly record: (frame: Buffer) => RecordedFrame;

  /** `redactKeys`: whose values are replaced by "[REDACTED]"; none keeps every frame byte for byte. */
  constructor(file: string, config: Record<string, unknown>, redactKeys: string[]) {
    const { upstream: _upstream, servers: _servers, ...rest } = config;
    this.record = makeFrameRedactor(redactKeys);
    this.fd = openPrivateFile(file, 'w', { tighten: true }); // overwritten whole, so made 0600 even if it existed
    const how = redactKeys.length > 0 ? `, the values of ${redactKeys.join(', ')} redacted` : '';
    this.line({ golden: 1, description: `recorded by ratri mcp proxy --record${how}`, config: rest });
  }

  private line(fields: Record<string, unknown>): void {
    writeSync(this.fd, JSON.stringify(fields) + '\n');
  }

  private frame(direction: Direction, frame: Buffer, terminated: boolean): void {
    const recorded = this.record(frame);
    if ('withheld' in recorded) return this.line({ ...direction, withheld: recorded.withheld, ...(terminated ? {} : { eol: false }) });
    this.line({ ...direction, ...frameFields(recorded.bytes, terminated), ...(recorded.redacted ? { redacted: true } : {}) });
  }

  fromHost(frame: Buffer, terminated: boolean): void {
    this.frame({ from: 'host' }, frame, terminated);
  }

  fromUpstream(frame: Buffer, terminated: boolean): void {
    this.frame({ from: 'upstream' }, frame, terminated);
  }

  toUpstream(frame: Buffer, terminated: boolean): void {
    this.frame({ to: 'upstream' }, frame, terminated);
  }

  toHost(frame: Buffer, terminated: boolean): void {
    this.frame({ to: 'host' }, frame, terminated);
  }

  hostClosed(): void {
    this.line({ close: 'host' });
  }

  upstreamExited(code: number): void {
    this.line({ exit: code });
  }
}
