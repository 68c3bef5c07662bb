/** `jsonErrorReason` (lib/jsonrpc/json-error-reason.ts): no part of a frame that is not JSON reaches an event. */
import { describe, expect, it } from 'vitest';
import { jsonErrorReason } from '../../lib/jsonrpc/json-error-reason.js';

const reasonFor = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (err) {
    return jsonErrorReason((err as Error).message);
  }
  throw new Error(`${text} parsed`);
};

describe('jsonErrorReason', () => {
  it('never carries the text around the bad token, wherever the secret is', () => {
    for (const text of [
      'sk-SECRET-abcdef',
      '{"password":sk-SECRET-abcdef}',
      `{"pad":"${'x'.repeat(200)}","password":sk-SECRET-abcdef}`,
      '{"a":1,"password":"sk-SECRET-abcdef"}}',
      "{'password':'sk-SECRET-abcdef'}",
      '{"password":"sk-SECRET-abcdef" "x":1}',
      '{"password":"sk-SECRET-abcdef',
    ]) {
      const reason = reasonFor(text);
      expect(reason, text).not.toContain('SECRET');
      expect(reason, text).not.toContain('password');
    }
  });

  it('keeps the messages that quote nothing', () => {
    expect(reasonFor('{"a":1')).toMatch(/^Expected ',' or '}' after property value in JSON at position 6/); // Node 22 adds "(line 1 column 7)"
    expect(reasonFor('')).toBe('Unexpected end of JSON input');
  });
});
