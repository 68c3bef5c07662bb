import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameWriter } from '../../lib/framing/frame-writer.js';

/** A writer over an in-memory stream, and what has been written to it so far. */
function open(holdLimit?: number) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = new FrameWriter(out, holdLimit);
  const written = async (): Promise<string> => {
    await new Promise((r) => setImmediate(r));
    return Buffer.concat(chunks).toString('utf8');
  };
  return { writer, written };
}

describe('FrameWriter relay', () => {
  it('writes whole lines at once and holds the bytes after the last newline until theirs arrives', async () => {
    const { writer, written } = open();
    writer.relay(Buffer.from('{"a":1}\n{"b":'));
    expect(await written()).toBe('{"a":1}\n');
    writer.relay(Buffer.from('2'));
    expect(await written()).toBe('{"a":1}\n');
    writer.relay(Buffer.from('}\n{"c"'));
    expect(await written()).toBe('{"a":1}\n{"b":2}\n');
  });

  it('puts a frame of its own after the unfinished relayed frame, never inside it', async () => {
    const { writer, written } = open();
    writer.relay(Buffer.from('{"half":'));
    writer.writeFrame(Buffer.from('{"own":1}'));
    expect(writer.queuedFrames).toBe(1);
    expect(await written()).toBe('');
    writer.relay(Buffer.from('true}\n'));
    expect(await written()).toBe('{"half":true}\n{"own":1}\n');
  });

  it('at the end of the source drops an unfinished frame, or delivers it with a newline when it is a whole message', async () => {
    const dropped = open();
    dropped.writer.relay(Buffer.from('{"ok":1}\n{"cut'));
    dropped.writer.writeFrame(Buffer.from('{"own":1}'));
    expect(dropped.writer.endRelay(false)).toEqual({ outcome: 'dropped', bytes: 5 });
    expect(await dropped.written()).toBe('{"ok":1}\n{"own":1}\n');

    const delivered = open();
    delivered.writer.relay(Buffer.from('{"whole":1}'));
    delivered.writer.writeFrame(Buffer.from('{"own":1}'));
    expect(delivered.writer.endRelay(true)).toEqual({ outcome: 'delivered', bytes: 11 });
    expect(await delivered.written()).toBe('{"whole":1}\n{"own":1}\n');
  });

  it('streams a frame longer than the hold limit, and ends it with a newline when the source ends inside it', async () => {
    const { writer, written } = open(8);
    writer.relay(Buffer.from('{"long":'));
    expect(await written()).toBe('');
    writer.relay(Buffer.from('"xxxx'));
    expect(await written()).toBe('{"long":"xxxx');
    writer.relay(Buffer.from('yy'));
    writer.writeFrame(Buffer.from('{"own":1}'));
    expect(await written()).toBe('{"long":"xxxxyy');
    expect(writer.endRelay(true)).toEqual({ outcome: 'cut', bytes: 15 });
    expect(await written()).toBe('{"long":"xxxxyy\n{"own":1}\n');
  });

  it('says nothing when the source ended between frames', () => {
    const { writer } = open();
    writer.relay(Buffer.from('{"a":1}\n'));
    expect(writer.endRelay(true)).toBeUndefined();
  });
});
