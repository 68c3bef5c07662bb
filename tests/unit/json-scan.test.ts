import { describe, expect, it } from 'vitest';
import { idAtEnd, idFromHead, peekEnvelope, scanTopLevel } from '../../lib/jsonrpc/json-scan.js';
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

describe('idAtEnd', () => {
  const scanned = (text: string) => scanTopLevel(text).members.get('id');

  it("reads an answer's id from its end, as the whole scan reads it, when the id is written last as JSON.stringify writes it", () => {
    for (const text of [
      '{"result":{"content":[{"type":"text","text":"Echo: hi"}]},"jsonrpc":"2.0","id":2}',
      '{"jsonrpc":"2.0","id":"abc"}',
      '{"id":-1.5e+3}\r',
      '{"id":"x","result":{},"id":7.0}  ',
      '{"a":"x\\\\","id":5}',
    ]) {
      expect(JSON.parse(text)).toBeTypeOf('object');
      expect(idAtEnd(text), text).toBe(scanned(text));
      expect(idAtEnd(text), text).not.toBeUndefined();
    }
  });

  it('leaves every other spelling to the whole scan: a nested id last, escapes, spaces, an id that is not last', () => {
    for (const text of [
      '{"result":{"id":1}}',
      '{"result":{"a":1,"id":1},"id":2,"x":{"id":3}}',
      '{"jsonrpc":"2.0","id":"a\\"b"}',
      '{"jsonrpc":"2.0","id":"\\u0061"}',
      '{"a":"x\\",\\"id\\":5}"}',
      '{"x\\"id":5}',
      '{"jsonrpc":"2.0","id": 5}',
      '{"jsonrpc":"2.0","id":null}',
      '{"id":1,"result":{}}',
      '[{"id":1}]',
    ]) {
      expect(JSON.parse(text), text).toBeDefined();
      expect(idAtEnd(text), text).toBeUndefined();
    }
  });

  it('agrees with the whole scan on every object JSON.stringify writes with an id last', () => {
    const ids: unknown[] = [0, 7, -3, 1.5, 1e21, 'a', 'with space', 'q"uote', 'back\\slash', 'ü', ''];
    const bodies: unknown[] = [{}, { result: { id: 9, text: ',"id":8}' } }, { error: { code: -1, message: '"id":1}' } }];
    for (const id of ids)
      for (const body of bodies) {
        const text = JSON.stringify({ ...(body as object), id });
        const atEnd = idAtEnd(text);
        if (atEnd !== undefined) expect(atEnd, text).toBe(scanned(text));
        expect(parsed(text).rawId, text).toBe(scanned(text));
      }
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

describe('ambiguousKey: an answer key another reader reads otherwise', () => {
  const peek = (text: string) => peekEnvelope(Buffer.from(text, 'utf8')).ambiguousKey;
  it('finds id, result or error given twice or in another case, as Go folds keys (bytes read as latin1 included)', () => {
    expect(peek('{"jsonrpc":"2.0","id":1,"ID":2,"result":{}}')).toBe('ID');
    expect(peek('{"jsonrpc":"2.0","id":2,"result":{},"id":3}')).toBe('id');
    expect(peek('{"jsonrpc":"2.0","id":1,"result":{},"re\u017fult":{"x":1}}')).toBe('re\u017fult');
    expect(peek('{"jsonrpc":"2.0","\u0131d":1,"result":{}}')).toBe('\u0131d');
    expect(peek('{"jsonrpc":"2.0","Error":{},"id":1}')).toBe('Error');
    expect(scanTopLevel('{"jsonrpc":"2.0","iD":1}').ambiguousKey).toBe('iD');
  });
  it('passes plain answers, other keys in any case, and keys of nested objects', () => {
    expect(peek('{"jsonrpc":"2.0","id":1,"result":{"id":2,"ID":3}}')).toBeUndefined();
    expect(peek('{"JSONRPC":"2.0","id":1,"Params":{},"result":{}}')).toBeUndefined();
    expect(peek('{"jsonrpc":"2.0","id":"\u00e9","result":{"content":[]}}')).toBeUndefined();
  });
});
