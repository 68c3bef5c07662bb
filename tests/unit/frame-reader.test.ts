import { describe, expect, it } from 'vitest';
import { FrameReader, framesOf, type OversizeFrame } from '../../lib/framing/frame-reader.js';

function collect(maxFrameBytes = 1024) {
  const frames: Array<{ text: string; bytes: Buffer; terminated: boolean }> = [];
  const oversize: OversizeFrame[] = [];
  const reader = new FrameReader(
    {
      onFrame: (frame, terminated) => frames.push({ text: frame.toString('utf8'), bytes: Buffer.from(frame), terminated }),
      onOversize: (info) => oversize.push(info),
    },
    { maxFrameBytes, oversizeHeadBytes: 16 },
  );
  return { reader, frames, oversize };
}

describe('FrameReader', () => {
  it('splits frames on newlines and keeps a trailing \\r in the frame', () => {
    const { reader, frames } = collect();
    reader.push(Buffer.from('{"a":1}\n{"b":2}\r\n'));
    expect(frames.map((f) => f.text)).toEqual(['{"a":1}', '{"b":2}\r']);
  });

  it('joins a frame split across many chunks', () => {
    const { reader, frames } = collect();
    for (const part of ['{"a"', ':', '1', '}\n{', '"b":2}\n']) reader.push(Buffer.from(part));
    expect(frames.map((f) => f.text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('never decodes a multi-byte character split between chunks', () => {
    const { reader, frames } = collect();
    const bytes = Buffer.from('{"t":"é🚀"}\n', 'utf8');
    for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
    expect(frames).toHaveLength(1);
    expect(Buffer.concat([frames[0]!.bytes, Buffer.from('\n')]).equals(bytes)).toBe(true);
    expect(frames[0]!.text).toBe('{"t":"é🚀"}');
  });

  it('reports empty lines as empty frames, so blank lines are forwarded too', () => {
    const { reader, frames } = collect();
    reader.push(Buffer.from('\n\n{}\n'));
    expect(frames.map((f) => f.text)).toEqual(['', '', '{}']);
  });

  it('reports bytes left at the end of the stream as an unterminated frame', () => {
    const { reader, frames } = collect();
    reader.push(Buffer.from('{"a":1}\n{"b"'));
    reader.end();
    expect(frames).toEqual([
      expect.objectContaining({ text: '{"a":1}', terminated: true }),
      expect.objectContaining({ text: '{"b"', terminated: false }),
    ]);
  });

  it('refuses a frame over the limit without buffering it, keeps its head, and carries on', () => {
    const { reader, frames, oversize } = collect(32);
    reader.push(Buffer.from('{"id":7,"x":"'));
    for (let i = 0; i < 100; i++) reader.push(Buffer.alloc(1000, 0x61));
    expect(reader.partialBytes).toBeGreaterThan(100_000);
    reader.push(Buffer.from('"}\n{"ok":1}\n'));
    expect(oversize).toHaveLength(1);
    expect(oversize[0]!.head.toString()).toBe('{"id":7,"x":"aaa');
    expect(oversize[0]!.totalBytes).toBe(13 + 100_000 + 2);
    expect(oversize[0]!.terminated).toBe(true);
    expect(frames.map((f) => f.text)).toEqual(['{"ok":1}']);
  });

  it('says when the stream ended inside a frame over the limit', () => {
    const { reader, oversize } = collect(10);
    reader.push(Buffer.from('{"id":1,"x":"aaaa'));
    reader.end();
    expect(oversize).toEqual([{ head: Buffer.from('{"id":1,"x":"aaa'), totalBytes: 17, terminated: false }]);
  });

  it('accepts a frame of exactly the limit', () => {
    const { reader, frames, oversize } = collect(10);
    reader.push(Buffer.from('0123456789\n01234567890\n'));
    expect(frames.map((f) => f.text)).toEqual(['0123456789']);
    expect(oversize).toHaveLength(1);
  });
});

describe('framesOf', () => {
  it('splits a whole byte string as the reader splits a stream, keeping a \\r and the unterminated tail', () => {
    expect(framesOf(Buffer.from('a\r\n\nb\nc')).map((f) => f.toString())).toEqual(['a\r', '', 'b', 'c']);
    expect(framesOf(Buffer.from('a\n'))).toEqual([Buffer.from('a')]);
    expect(framesOf(Buffer.alloc(0))).toEqual([]);
  });
});
