/** ParsedMessage's typed accessors: what the gate, the interceptor and the HTTP front read from a message. */
import { describe, expect, it } from 'vitest';
import { type ParsedMessage, readFrame } from '../../lib/jsonrpc/message.js';

const read = (text: string): ParsedMessage => {
  const frame = readFrame(Buffer.from(text));
  if (frame.kind !== 'single') throw new Error(`not a single message: ${text}`);
  return frame.message;
};

describe('ParsedMessage accessors', () => {
  it('reads a tools/call as the policy reads it', () => {
    const m = read(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run","arguments":{"cmd":"ls"},"_meta":{"progressToken":7}}}',
    );
    expect(m.toolCall()).toEqual({ tool: 'run', arguments: { cmd: 'ls' } });
    expect(m.progressToken).toBe(7);
    expect(m.param('name')).toBe('run');
  });

  it("gives '' and {} for a name or arguments of the wrong type, and undefined for params that are not an object", () => {
    expect(read('{"id":1,"method":"tools/call","params":{"name":5,"arguments":[1]}}').toolCall()).toEqual({ tool: '', arguments: {} });
    for (const params of ['[1,2]', '"text"', 'null']) {
      const m = read(`{"id":1,"method":"tools/call","params":${params}}`);
      expect(m.param('name')).toBeUndefined();
      expect(m.progressToken).toBeUndefined();
      expect(m.toolCall()).toEqual({ tool: '', arguments: {} });
    }
    expect(read('{"id":1,"method":"x","params":{"_meta":"no"}}').progressToken).toBeUndefined();
    expect(read('{"method":"notifications/cancelled"}').params).toBeUndefined();
    expect(read('{"method":"notifications/progress","params":{"progressToken":"t","progress":1}}').param('progressToken')).toBe('t');
  });
});
