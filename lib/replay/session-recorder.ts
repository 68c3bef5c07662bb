/**
 * `ratri mcp proxy --record FILE`: writes what crosses the proxy, in order, in the golden format,
 * so a real session can become a regression test (`ratri replay FILE`). The values of `redactKeys`
 * are redacted in what it writes (`recording-redactor.ts`) unless `--record-unredacted`.
 */
import { writeSync } from 'node:fs';
import { openPrivateFile } from '../node/private-files.js';
import type { FindSecrets } from '../secrets/find-secrets.js';
import { frameFields } from './golden-format.js';
import { makeFrameRedactor, type RecordedFrame } from './recording-redactor.js';

type Direction = { from: 'host' | 'upstream' } | { to: 'host' | 'upstream' };

export class SessionRecorder {
  private readonly fd: number;
  private readonly record: (frame: Buffer) => RecordedFrame | Promise<RecordedFrame>;
  /** The last line still waiting for a frame's secret scan: every later line is written after it. */
  private pending: Promise<void> | undefined;

  /**
   * `redactKeys`: whose values are replaced by "[REDACTED]"; `findSecrets`: detects secret values to
   * replace by "[REDACTED:<rule>]". Neither keeps every frame byte for byte.
   */
  constructor(file: string, config: Record<string, unknown>, redactKeys: string[], findSecrets?: FindSecrets) {
    const { upstream: _upstream, servers: _servers, ...rest } = config;
    this.record = makeFrameRedactor(redactKeys, findSecrets);
    this.fd = openPrivateFile(file, 'w', { tighten: true }); // overwritten whole, so made 0600 even if it existed
    const keys = redactKeys.length > 0 ? `, the values of ${redactKeys.join(', ')} redacted` : '';
    const secrets = findSecrets ? ', secret values redacted' : '';
    this.line({ golden: 1, description: `recorded by ratri mcp proxy --record${keys}${secrets}`, config: rest });
  }

  /** Resolves when every line is written (a frame's secret scan may still be running). */
  settled(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }

  private line(fields: Record<string, unknown> | Promise<Record<string, unknown>>): void {
    const write = (f: Record<string, unknown>): void => void writeSync(this.fd, `${JSON.stringify(f)}\n`);
    if (!(fields instanceof Promise) && !this.pending) return write(fields);
    const next = (this.pending ?? Promise.resolve()).then(() => fields).then(write);
    this.pending = next;
    void next.finally(() => {
      if (this.pending === next) this.pending = undefined;
    });
  }

  private frame(direction: Direction, frame: Buffer, terminated: boolean): void {
    const fields = (recorded: RecordedFrame): Record<string, unknown> =>
      'withheld' in recorded
        ? { ...direction, withheld: recorded.withheld, ...(terminated ? {} : { eol: false }) }
        : { ...direction, ...frameFields(recorded.bytes, terminated), ...(recorded.redacted ? { redacted: true } : {}) };
    const recorded = this.record(frame);
    this.line(recorded instanceof Promise ? recorded.then(fields) : fields(recorded));
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
