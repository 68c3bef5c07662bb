/**
 * json-splice.ts: the values at a path are found and replaced byte for byte, every repetition of a
 * key included, and nothing else in the text moves.
 */
import { describe, expect, it } from 'vitest';
import { spliceAt, valuesAt } from '../../lib/jsonrpc/json-splice.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('json-splice', () => {
  it('reads and replaces a top-level id as written', () => {
    const text = '{"jsonrpc":"2.0", "id" : 7.0 ,"method":"ping"}';
    expect(valuesAt(b(text), ['id'])).toEqual(['7.0']);
    expect(spliceAt(b(text), ['id'], '"ratri-1"').toString()).toBe('{"jsonrpc":"2.0", "id" : "ratri-1" ,"method":"ping"}');
  });

  it('finds a nested value and leaves lookalikes in strings and other members alone', () => {
    const text =
      '{"params":{"name":"x","arguments":{"_meta":{"progressToken":9},"s":"\\"progressToken\\":1"},"_meta":{"progressToken":"é"}}}';
    expect(valuesAt(b(text), ['params', '_meta', 'progressToken'])).toEqual(['"é"']);
    const out = spliceAt(b(text), ['params', '_meta', 'progressToken'], '"ratri-p1"').toString();
    expect(JSON.parse(out)).toEqual({
      params: { name: 'x', arguments: { _meta: { progressToken: 9 }, s: '"progressToken":1' }, _meta: { progressToken: 'ratri-p1' } },
    });
  });

  it('replaces every occurrence of a repeated key, so first-wins and last-wins readers agree', () => {
    const text = '{"id":1,"method":"ping","id":2}';
    expect(spliceAt(b(text), ['id'], '"r"').toString()).toBe('{"id":"r","method":"ping","id":"r"}');
  });

  it('matches keys by their decoded value and leaves a text without the path unchanged', () => {
    expect(valuesAt(b('{"\\u0069d":[1,{"a":2}]}'), ['id'])).toEqual(['[1,{"a":2}]']);
    const text = b('{"result":{}}');
    expect(spliceAt(text, ['id'], '1')).toBe(text);
    expect(valuesAt(b('[{"id":1}]'), ['id'])).toEqual([]);
  });
});
