import { describe, expect, it } from 'vitest';
import { readHostFrame } from '../../lib/jsonrpc/message.js';
import { foldKey, MAX_DEPTH, strictScan } from '../../lib/jsonrpc/strict-scan.js';

/** The reason a host frame is refused, or undefined when it is read one way only. */
function problemOf(frame: string | Buffer): string | undefined {
  const read = readHostFrame(typeof frame === 'string' ? Buffer.from(frame) : frame);
  if (read.kind === 'single') return read.problem ?? read.message.problem;
  if (read.kind === 'batch') return read.problem ?? read.messages.find((m) => m.problem)?.problem;
  return read.kind === 'invalid-json' ? `invalid: ${read.reason}` : undefined;
}

const call = (params: string, head = '"jsonrpc":"2.0","id":1,"method":"tools/call"') => `{${head},"params":${params}}`;

describe('one frame, one reading', () => {
  it('passes ordinary frames, a trailing \\r and escapes that every reader decodes alike', () => {
    expect(problemOf(call('{"name":"read_file","arguments":{"path":"/tmp/a","n":[1,{"x":"y"}]}}'))).toBeUndefined();
    expect(problemOf(call('{"name":"read_file","arguments":{}}') + '\r')).toBeUndefined();
    expect(problemOf('{"jsonrpc":"2.0","id":1,"\\u006dethod":"tools\\/call","params":{"name":"x"}}')).toBeUndefined();
    expect(problemOf(call('{"name":"x","arguments":{"emoji":"\\ud83d\\ude00","text":"é ü 漢"}}'))).toBeUndefined();
    expect(problemOf('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"}]')).toBeUndefined();
  });

  it('refuses a raw \\r anywhere but right before the newline', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"ping"}\r\r')).toMatch(/raw \\r/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"ping",\r"x":1}')).toMatch(/raw \\r/);
  });

  it('refuses raw line separators that split lines for some readers', () => {
    expect(problemOf(call('{"name":"x","arguments":{"a":"1\u20282"}}'))).toMatch(/U\+2028/);
    expect(problemOf(call('{"name":"x","arguments":{"a":"1\u0085"}}'))).toMatch(/U\+2028/);
    expect(problemOf(call('{"name":"x","arguments":{"a":"é\u2029"}}'))).toMatch(/U\+2028/);
    expect(problemOf(call('{"x\u2028":"é"}'))).toMatch(/U\+2028/);
    // Their neighbours (U+2026, U+2027, U+202A, U+0084 and U+0086 share lead bytes with them) are fine.
    expect(problemOf(call('{"name":"x","arguments":{"a":"…\u2027\u202a\u0084\u0086"}}'))).toBeUndefined();
  });

  it('refuses the same key twice in any object, top level first, whatever the last value says', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec"},"method":"ping"}')).toMatch(
      /duplicate key "method"/,
    );
    expect(problemOf('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}')).toMatch(/duplicate key "id"/);
    expect(problemOf(call('{"name":"exec","name":"echo"}'))).toMatch(/duplicate key "name"/);
    expect(problemOf(call('{"name":"x","arguments":{"a":{"b":1,"\\u0062":2}}}'))).toMatch(/duplicate key "b"/);
    expect(problemOf('[{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}]')).toMatch(/duplicate key/);
  });

  it('refuses a duplicate or a case variant among many keys as among few', () => {
    const many = Array.from({ length: 12 }, (_, i) => `"k${i}":${i}`).join(',');
    expect(problemOf(call(`{"name":"x","arguments":{${many}}}`))).toBeUndefined();
    expect(problemOf(call(`{"name":"x","arguments":{${many},"k3":0}}`))).toMatch(/duplicate key "k3"/);
    expect(problemOf(call(`{"name":"x","arguments":{${many},"K3":0}}`))).toMatch(/differ only in case/);
    expect(problemOf(call(`{"name":"x","arguments":{"K3":0,${many}}}`))).toMatch(/differ only in case/);
    expect(problemOf(call(`{"name":"x","arguments":{"k1":0,"k2":0,"k1":1}}`))).toMatch(/duplicate key "k1"/);
  });

  it('refuses keys equal under case folding, ASCII and Unicode', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}')).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"echo","NAME":"exec"}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"path":"/tmp","Path":"/etc"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"s":"/tmp","ſ":"/etc"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"k":1,"\u212a":2}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"file":"/tmp","f\u0130le":"/etc"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"id":1,"\u0131d":2}}'))).toMatch(/differ only in case/);
    // Whichever key comes first, and with other keys between them (the folds are kept from the first key that needs them).
    expect(problemOf(call('{"name":"x","arguments":{"Path":"/etc","x":1,"path":"/tmp"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"a":1,"path":"/tmp","b":2,"PATH":"/etc"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"ſ":"/etc","a":1,"s":"/tmp"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"a":1,"Path":"/etc","PATh":"/tmp"}}'))).toMatch(/differ only in case/);
    expect(problemOf(call('{"name":"x","arguments":{"a":1,"Path":"/etc","b":2,"c_d":3}}'))).toBeUndefined();
    expect(foldKey('ſ')).toBe('s');
    expect(foldKey('\u212a')).toBe('k');
    expect(foldKey('f\u0130le')).toBe('file'); // Go lower-cases the dotted capital I to a plain i
    expect(foldKey('\u0131D')).toBe('id'); // and upper-cases the dotless i to a plain I
  });

  it('refuses a lone envelope key spelled in another case (a Go server reads it as the member)', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"exec"}}')).toMatch(/"Method" differs from "method"/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"exec"}}')).toMatch(/"Name" differs from "name"/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","ARGUMENTS":{}}}')).toMatch(
      /differs from "arguments"/,
    );
  });

  it(`refuses nesting deeper than ${MAX_DEPTH} without recursing, and passes ${MAX_DEPTH} levels`, () => {
    const nested = (n: number) => call(`{"name":"x","arguments":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`);
    expect(problemOf(nested(MAX_DEPTH - 3))).toBeUndefined(); // message, params and arguments are three levels
    expect(problemOf(nested(MAX_DEPTH - 2))).toMatch(/nested deeper than 64/);
    expect(problemOf(nested(100_000))).toMatch(/nested deeper/);
  });

  it('refuses an id past the largest double (a JSON.stringify upstream answers it as null), and passes large finite ones', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1e400,"method":"ping"}')).toMatch(/id is a number too large for a double/);
    expect(problemOf('{"jsonrpc":"2.0","id":-1e309,"method":"ping"}')).toMatch(/id is a number too large/);
    expect(problemOf('{"jsonrpc":"2.0","id":1e308,"method":"ping"}')).toBeUndefined();
    expect(problemOf('{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}')).toBeUndefined();
  });

  it('refuses an id that is not a string, a number or null (an upstream re-serialises {"a": 1} as {"a":1})', () => {
    for (const id of ['{"a":1}', '[1]', 'true', 'false'])
      expect(problemOf(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`)).toMatch(/id must be a string, a number or null/);
    for (const id of ['"x"', '0', 'null', '-1.5']) expect(problemOf(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`)).toBeUndefined();
  });

  it('refuses non-string methods, control characters and padding in a method or tool name', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":["tools/call"]}')).toMatch(/method must be a string/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":null}')).toMatch(/method must be a string/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call\\u001b"}')).toMatch(/method has control/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call "}')).toMatch(/white space/);
    expect(problemOf(call('{"name":"exec\\u0007.txt"}'))).toMatch(/params.name has control/);
    expect(problemOf(call('{"name":"exec\\u001b[0m"}'))).toMatch(/params.name has control/);
  });

  it('refuses control characters in a key and a NUL in any string (a C reader ends the string there)', () => {
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method\\u0000x":"tools/call","method":"ping"}')).toMatch(
      /key "method\\u0000x" has control characters/,
    );
    expect(problemOf(call('{"name":"x","arguments":{"path\\u001b":"/etc"}}'))).toMatch(/has control characters/);
    expect(problemOf(call('{"name":"read_file","arguments":{"path":"id_rsa.key\\u0000.txt"}}'))).toMatch(/a string has a NUL/);
    expect(problemOf(call('{"name":"x","arguments":{"text":"a\\\\u0000b"}}'))).toBeUndefined(); // an escaped backslash, then the text u0000
  });

  it('refuses invalid UTF-8 and unpaired surrogate escapes', () => {
    const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(problemOf(bytes)).toMatch(/not valid UTF-8/);
    expect(problemOf('{"jsonrpc":"2.0","id":1,"method":"tools/call\\ud800"}')).toMatch(/unpaired surrogate/);
    expect(problemOf(call('{"name":"x","arguments":{"\\udc00path":"/etc"}}'))).toMatch(/unpaired surrogate/);
  });

  it('keeps the top-level members and batch spans the proxy echoes', () => {
    const scan = strictScan('{"jsonrpc":"2.0","params":{"id":3},"id":1.0}');
    expect(scan.members.get('id')).toBe('1.0');
    expect(strictScan(' [ {"a":1} , 7 ] ').elements).toEqual([
      [3, 10],
      [13, 14],
    ]);
    expect(strictScan('{"id":1,"id":2}').problemKey).toBe('id');
  });
});
