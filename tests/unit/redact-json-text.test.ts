/** `redactJsonText` (lib/replay/redact-json-text.ts): redaction that keeps every other byte of a frame. */
import { describe, expect, it } from 'vitest';
import { redactJsonText } from '../../lib/replay/redact-json-text.js';

const redact = (text: string): string => {
  JSON.parse(text); // only JSON text is given to it
  return redactJsonText(text, ['password', 'token']).text;
};

describe('redactJsonText', () => {
  it('replaces the values of the keys at any depth and leaves every other byte alone', () => {
    const text =
      '{ "id" : 1.0,"params":{"arguments":{"path":"/caf\\u00e9","password" :  "s3cret" ,"n":[{"token":{"deep":[1,"x"]}}, 2e1]}}}';
    expect(redact(text)).toBe(
      '{ "id" : 1.0,"params":{"arguments":{"path":"/caf\\u00e9","password" :  "[REDACTED]" ,"n":[{"token":"[REDACTED]"}, 2e1]}}}',
    );
  });

  it('redacts every occurrence of a key given twice, and keys written with escapes or in another case', () => {
    expect(redact('{"token":"a","token":"b"}')).toBe('{"token":"[REDACTED]","token":"[REDACTED]"}');
    expect(redact('{"\\u0074oken":"a","PassWord":1,"pa\u017F\u017Fword":true}')).toBe(
      '{"\\u0074oken":"[REDACTED]","PassWord":"[REDACTED]","pa\u017F\u017Fword":"[REDACTED]"}',
    );
  });

  it('leaves strings that only look like keys, and text without the keys, unchanged', () => {
    const text = '["password",{"note":"\\"token\\": 1","list":["token"]},{"passwords":"x"}]';
    expect(redactJsonText(text, ['password', 'token'])).toEqual({ text, changed: false });
  });

  it('walks nesting of any depth without recursion', () => {
    const deep = `${'['.repeat(100_000)}{"token":"t"}${']'.repeat(100_000)}`;
    expect(redact(deep)).toBe(`${'['.repeat(100_000)}{"token":"[REDACTED]"}${']'.repeat(100_000)}`);
  });
});
