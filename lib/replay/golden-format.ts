/**
 * The golden session format (`fixtures/*.golden.jsonl`): one JSON object per line.
 *
 *   {"golden":1,"description":"…","config":{…ratri.mcp.json without upstream…}}   first line
 *   {"from":"host","text":"…"}          the host writes a frame to the proxy
 *   {"from":"upstream","text":"…"}      the upstream writes a frame to the proxy
 *   {"to":"upstream","text":"…"}        the proxy must write exactly this frame upstream next
 *   {"to":"host","text":"…"}            the proxy must write exactly this frame to the host next
 *   {"wait":50}                         pause (ms), e.g. to let an approval time out
 *   {"close":"host"}                    the host closes the proxy's stdin
 *   {"exit":3}                          the upstream exits with this code
 *   {"expectExit":3}                    the proxy must exit with this code
 *
 * A frame is `text` (UTF-8) or `base64` (any bytes); `"eol":false` marks bytes with no newline after
 * them (the end of a stream). Comparison is byte-exact, the newline included. `--record` may mark a
 * frame `"redacted":true` (ignored here) or write `"withheld":"why"` instead of it (refused here).
 */

export interface GoldenHeader {
  golden: 1;
  description?: string;
  config: Record<string, unknown>;
}

export type GoldenStep =
  | { from: 'host' | 'upstream'; bytes: Buffer }
  | { to: 'host' | 'upstream'; bytes: Buffer }
  | { wait: number }
  | { close: 'host' }
  | { exit: number }
  | { expectExit: number };

export interface GoldenSession {
  header: GoldenHeader;
  steps: GoldenStep[];
}

interface FrameLine {
  withheld?: string;
  text?: string;
  base64?: string;
  eol?: boolean;
}

/** The bytes a frame line stands for, newline included unless `eol` is false. */
function frameBytes(line: FrameLine, where: string): Buffer {
  let body: Buffer;
  if (typeof line.withheld === 'string') {
    throw new Error(
      `${where}: --record withheld this frame (${line.withheld}); write the frame by hand, or record the session again with --record-unredacted`,
    );
  }
  if (typeof line.text === 'string') body = Buffer.from(line.text, 'utf8');
  else if (typeof line.base64 === 'string') body = Buffer.from(line.base64, 'base64');
  else throw new Error(`${where}: a frame needs "text" or "base64"`);
  return line.eol === false ? body : Buffer.concat([body, Buffer.from('\n')]);
}

/** Encodes one frame (newline included when `terminated`) as a golden line's frame fields. */
export function frameFields(frame: Buffer, terminated: boolean): FrameLine {
  const text = frame.toString('utf8');
  const fields: FrameLine = Buffer.from(text, 'utf8').equals(frame) ? { text } : { base64: frame.toString('base64') };
  if (!terminated) fields.eol = false;
  return fields;
}

export function parseGolden(source: string, name = 'golden file'): GoldenSession {
  const lines = source.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${name}: empty`);
  const header = JSON.parse(lines[0] as string) as GoldenHeader;
  if (header.golden !== 1 || typeof header.config !== 'object') {
    throw new Error(`${name}:1: the first line must be {"golden":1,"config":{…}}`);
  }
  const steps = lines.slice(1).map((line, i): GoldenStep => {
    const where = `${name}:${i + 2}`;
    const o = JSON.parse(line) as Record<string, unknown> & FrameLine;
    if (o.from === 'host' || o.from === 'upstream') return { from: o.from, bytes: frameBytes(o, where) };
    if (o.to === 'host' || o.to === 'upstream') return { to: o.to, bytes: frameBytes(o, where) };
    if (typeof o.wait === 'number') return { wait: o.wait };
    if (o.close === 'host') return { close: 'host' };
    if (typeof o.exit === 'number') return { exit: o.exit };
    if (typeof o.expectExit === 'number') return { expectExit: o.expectExit };
    throw new Error(`${where}: unknown step ${line.slice(0, 80)}`);
  });
  return { header, steps };
}
