/**
 * The fuzzer's readers (tests/helpers/readers.ts) must be right before their disagreements mean
 * anything: the member-keeping parser accepts exactly what JSON.parse accepts and, keeping the last
 * key, builds the same value; each reader reads the tricks it models as the server it stands for would.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalText } from '../helpers/canonical-json.js';
import { hostFrame } from '../helpers/frame-arbitraries.js';
import { parseMembers, treeValue } from '../helpers/json-members.js';
import { decodeSurrogateEscape, disagreements, goFoldKey, readAll } from '../helpers/readers.js';

function parses(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function sameAsJsonParse(text: string): void {
  const expected = parses(text);
  if (!expected.ok) {
    expect(() => parseMembers(text), text).toThrow(SyntaxError);
    return;
  }
  // canonicalText, not toStrictEqual: a generated frame may nest deeper than a recursive comparison can go.
  expect(canonicalText(treeValue(parseMembers(text), 'last')), text).toBe(canonicalText(expected.value));
}

const jsonish = fc.string({
  unit: fc.constantFrom(...'{}[]":,0123456789-+.eE \t\r\ntruefalsnu\\/abcdefxX\u0001\u00e9'.split('')),
  maxLength: 30,
});

describe('parseMembers', () => {
  it('reads valid JSON (escapes, surrogate pairs, numbers, spacing) exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t', ' \r\n'), (value, space) =>
        sameAsJsonParse(JSON.stringify(value, null, space)),
      ),
      { numRuns: 500 },
    );
    for (const text of [
      '"\\ud83d\\ude00 \\u00e9 \\/ \\b\\f\\n\\r\\t \\"\\\\"',
      '"\\udc00"',
      '-0',
      '1E+2',
      '-1.5e-3',
      '{"__proto__":1}',
      ' [ ] ',
      '{"a":{"b":[{}]}}',
    ])
      sameAsJsonParse(text);
  });

  it('refuses exactly what JSON.parse refuses', () => {
    fc.assert(fc.property(jsonish, sameAsJsonParse), { numRuns: 3000 });
    for (const text of [
      '',
      '01',
      '1.',
      '.5',
      '+1',
      '"\\x"',
      '"\\u12"',
      '"a\tb"',
      '[1,]',
      '{"a":1,}',
      '{"a" 1}',
      'nul',
      '1 2',
      '\u00a01',
      '"\u0000"',
    ])
      sameAsJsonParse(text);
  });

  it('reads every generated host frame as JSON.parse does, nested thousands deep', () => {
    fc.assert(
      fc.property(hostFrame, (f) => sameAsJsonParse(f.bytes.toString('utf8'))),
      { numRuns: 300 },
    );
    sameAsJsonParse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`);
  });

  it('keeps the first of duplicate keys when asked', () => {
    expect(treeValue(parseMembers('{"a":1,"b":2,"a":3}'), 'first')).toStrictEqual({ a: 1, b: 2 });
  });
});

const frame = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('readers', () => {
  it('agree on a plain call and on one spelled with escapes', () => {
    expect(
      disagreements(readAll(frame('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec","arguments":{"path":"/x"}}}\r'))),
    ).toEqual([]);
    expect(
      disagreements(readAll(frame('{"\\u006dethod":"tools\\/call","params":{"n\\u0061me":"\\u0065xec","arguments":{"p\\u0061th":"/x"}}}'))),
    ).toEqual([]);
  });

  it('firstKey sees the first of duplicate keys (and so does cString, as cJSON does)', () => {
    expect(disagreements(readAll(frame('{"method":"tools/call","method":"ping"}')))).toEqual(['firstKey', 'cString']);
    expect(readAll(frame('{"method":"tools/call","method":"ping"}')).firstKey).toEqual([{ kind: 'message', method: 'tools/call' }]);
  });

  it('goFold matches keys as Go does: case, ſ and the Kelvin sign, last one wins', () => {
    expect(goFoldKey('param\u017f')).toBe('PARAMS');
    expect(goFoldKey('\u212aey')).toBe('KEY');
    expect(goFoldKey('\u00df')).toBe('\u00df'); // no one-rune upper case: Go keeps it
    expect(goFoldKey('f\u0130le')).toBe('FILE'); // İ: Go lower-cases it to a plain i
    expect(goFoldKey('f\u0131le')).toBe('FILE'); // ı: upper case I
    const all = readAll(frame('{"method":"ping","Method":"tools/call","params":{"name":"echo","NAME":"exec"}}'));
    expect(all.goFold).toEqual([{ kind: 'message', method: 'tools/call', name: 'exec' }]);
    expect(disagreements(all)).toEqual(['goFold']);
    expect(disagreements(readAll(frame('{"method":"tools/call","params":{"name":"e","arguments":{"key":1,"\u212aey":2}}}')))).toEqual([
      'goFold',
    ]);
  });

  it('goFold reads an unpaired surrogate escape as U+FFFD, as Go does', () => {
    const all = readAll(frame('{"method":"tools/call","params":{"name":"exec\\ud800"}}'));
    expect(all.goFold).toEqual([{ kind: 'message', method: 'tools/call', name: 'exec\ufffd' }]);
    expect(disagreements(all)).toEqual(['goFold']);
    expect(disagreements(readAll(frame('{"method":"tools/call","params":{"name":"\\ud83d\\ude00"}}')))).toEqual([]);
  });

  it("lineSplit also ends lines at U+2028, and fails past Python's recursion limit", () => {
    expect(disagreements(readAll(frame('{"method":"tools/call","params":{"name":"a\u2028b"}}')))).toEqual(['lineSplit']);
    const nested = (depth: number): Buffer => frame(`{"method":"ping","params":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(disagreements(readAll(nested(998)))).toEqual([]);
    expect(disagreements(readAll(nested(1000)))).toEqual(['lineSplit']);
  });

  it('cString ends keys and values at NUL and finds a member by its first key in any ASCII case, as cJSON does', () => {
    const hidden = readAll(frame('{"method\\u0000x":"tools/call","method":"ping","params":{"name":"exec"}}'));
    expect(hidden.lastKey).toEqual([{ kind: 'message', method: 'ping' }]);
    expect(hidden.cString).toEqual([{ kind: 'message', method: 'tools/call', name: 'exec' }]);
    expect(disagreements(hidden)).toEqual(['cString']);
    const args = readAll(
      frame('{"method":"tools/call","params":{"name":"read_file","arguments":{"path\\u0000":"/etc/shadow","path":"/tmp/ok"}}}'),
    );
    expect(args.cString).toEqual([{ kind: 'message', method: 'tools/call', name: 'read_file', arguments: { path: '/etc/shadow' } }]);
    expect(
      disagreements(readAll(frame('{"method":"tools/call","params":{"name":"sh","arguments":{"command":"ls\\u0000; rm -rf /"}}}'))),
    ).toEqual(['cString']);
    expect(readAll(frame('{"METHOD":"tools/call","Params":{"NAME":"exec"}}')).cString).toEqual([
      { kind: 'message', method: 'tools/call', name: 'exec' },
    ]);
  });

  it('lineSplit ends lines at a lone \\r, and finds the call hidden between two', () => {
    const smuggled = '{"x":\r{"method":"tools/call","params":{"name":"exec"}}\r,"method":"ping"}';
    const all = readAll(frame(smuggled));
    expect(all.lastKey).toEqual([{ kind: 'message', method: 'ping' }]);
    expect(all.lineSplit).toEqual([
      { kind: 'invalid-json' },
      { kind: 'message', method: 'tools/call', name: 'exec' },
      { kind: 'invalid-json' },
    ]);
    expect(disagreements(all)).toEqual(['lineSplit']);
  });

  it('lineSplit decodes bytes that are not UTF-8 as surrogate escapes, so they differ from U+FFFD', () => {
    expect(decodeSurrogateEscape(Buffer.from([0x61, 0xc0, 0xaf, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80]))).toBe(
      'a\udcc0\udcaf\u20ac\ud83d\ude00\udced\udca0\udc80',
    );
    const bad = Buffer.concat([frame('{"method":"tools/call","params":{"name":"ex'), Buffer.from([0xff]), frame('ec"}}')]);
    expect(disagreements(readAll(bad))).toEqual(['lineSplit']);
  });
});
