import { describe, expect, it } from 'vitest';
import { idFromHead, peekEnvelope, scanTopLevel } from '../../lib/jsonrpc/json-scan.js';
import { ParsedMessage, readFrame } from '../../lib/jsonrpc/message.js';

const parsed = (text: string) => new ParsedMessage(text, JSON.parse(text));

describe('reading frames', () => {
  it('keeps the id exactly as written', () => {
    expect(parsed('{"jsonrpc":"2.0","id":1.0,"method":"x"}').rawId).toBe('1.0');
    expect(parsed('{"id" : 1e3 ,"method":"x"}').rawId).toBe('1e3');
    expect(parsed('{"id":"\\u0061bc","method":"x"}').rawId).toBe('"\\u0061bc"');
    expect(parsed('{"id":"abc","method":"x"}').rawId).toBe('"abc"');
    expect(parsed('{"method":"x"}').rawId).toBe('null');
  });

  it('takes the top-level id, not a nested one spelled the same way', () => {
    expect(parsed('{"params":{"id":1},"id":1.0,"method":"x"}').rawId).toBe('1.0');
  });

  it('splits a batch into elements with their original text', () => {
    const read = readFrame(Buffer.from('[ {"id":1, "method":"a"} ,{"method":"b","params":[1,{"x":"]"}]}, 7 ]'));
    expect(read.kind).toBe('batch');
    if (read.kind !== 'batch') return;
    expect(read.messages.map((m) => m.text)).toEqual(['{"id":1, "method":"a"}', '{"method":"b","params":[1,{"x":"]"}]}', '7']);
  });

  it('classifies blank, invalid and single frames', () => {
    expect(readFrame(Buffer.from('  \r')).kind).toBe('blank');
    expect(readFrame(Buffer.from('{"a":')).kind).toBe('invalid-json');
    const single = readFrame(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
    expect(single).toMatchObject({ kind: 'single', utf8: false });
  });

  it('reads the id from the head of an oversized frame only when the member is complete', () => {
    expect(idFromHead('{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"x":"aaaa')).toBe('42');
    expect(idFromHead('{"id":"req-\\"7","params":{"x":"aaaa')).toBe('"req-\\"7"');
    expect(idFromHead('{"jsonrpc":"2.0","id":12')).toBeUndefined();
    expect(idFromHead('{"params":{"id":5,"x":"aaa')).toBeUndefined();
    expect(idFromHead('[{"id":1')).toBeUndefined();
  });

  it('reads top-level members outside strings only', () => {
    expect([...scanTopLevel('{"a":"b:c,\\"d\\":2","d":{"e":1}}').members]).toEqual([
      ['a', '"b:c,\\"d\\":2"'],
      ['d', '{"e":1}'],
    ]);
  });
});

describe('peekEnvelope', () => {
  it('reads id, method, error and isError of a frame without parsing the rest, across multi-byte text', () => {
    const big = 'é😀"\\'.repeat(1000);
    const frame = Buffer.from(
      JSON.stringify({ result: { content: [{ type: 'text', text: big }], isError: true }, jsonrpc: '2.0', id: 'réq-1' }),
    );
    expect(peekEnvelope(frame)).toEqual({
      kind: 'object',
      method: undefined,
      rawId: '"réq-1"',
      id: 'réq-1',
      error: undefined,
      resultIsError: true,
    });
    const error = Buffer.from('{"jsonrpc":"2.0","id":7.0,"error":{"code":-32000,"message":"ünicode"}}');
    expect(peekEnvelope(error)).toMatchObject({ rawId: '7.0', id: 7, error: { code: -32000, message: 'ünicode' }, resultIsError: false });
    const request = Buffer.from(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{"x":${JSON.stringify(big)}}}}`);
    expect(peekEnvelope(request)).toMatchObject({ method: 'tools/call', id: 3 });
    expect(peekEnvelope(Buffer.from(' [{"id":1}]')).kind).toBe('array');
  });
});
