/**
 * FrameWriter queueing through the relay (lib/framing/frame-writer.ts): while an upstream frame is
 * half relayed to the host, ratri's own answer waits and is written right after that frame's
 * newline, so no line is ever interleaved.
 */
import { describe, expect, it } from 'vitest';
import { createLinkedRelay } from '../helpers/relay-harness.js';

describe('relay FrameWriter queueing', () => {
  it("a refusal made while an upstream frame is half written waits for that frame's end", () => {
    const relay = createLinkedRelay({ decide: () => ({ decision: 'block', ruleId: null, reason: 'no' }) });
    relay.host.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    relay.upstream.write('{"jsonrpc":"2.0","id":1,"res');
    relay.host.write('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}}\n');
    expect(relay.host.bytes().length).toBe(0); // neither the half frame nor the refusal yet
    relay.upstream.write('ult":{}}\n');
    const lines = relay.host.lines();
    expect(lines[0]).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
    expect(JSON.parse(lines[1] as string)).toMatchObject({ id: 2, error: { message: expect.any(String) } });
    expect(lines).toHaveLength(2);
  });
});
