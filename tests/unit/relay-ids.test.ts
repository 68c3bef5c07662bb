/**
 * Id matching through the relay (lib/relay/pending-requests.ts): an answer finds its request by the
 * id's own text, or by its number respelled (7.0 answered as 7); an answer to nothing pending is
 * relayed and settles nothing; an id is answered by ratri exactly as the host spelled it.
 */
import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../../lib/jsonrpc/errors.js';
import { createLinkedRelay } from '../helpers/relay-harness.js';

const call = (id: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"add"}}\n`;

describe('relay id matching', () => {
  it('an upstream that respelled a numeric id (7.0 → 7) still settles the call', () => {
    const relay = createLinkedRelay();
    relay.host.write(call('7.0'));
    relay.upstream.write('{"jsonrpc":"2.0","id":7,"result":{"content":[]}}\n');
    expect(relay.calls('toolFinished')).toHaveLength(1);
    relay.upstream.exit(0);
    expect(relay.host.lines()).toHaveLength(1); // only the answer: nothing was left to fail
  });

  it('the string "7" is not the number 7: that answer settles nothing, and the exit answers the call', () => {
    const relay = createLinkedRelay();
    relay.host.write(call('7'));
    relay.upstream.write('{"jsonrpc":"2.0","id":"7","result":{}}\n');
    expect(relay.calls('toolFinished')).toHaveLength(0);
    relay.upstream.exit(3);
    const last = relay.host.lines().at(-1) as string;
    expect(last.startsWith('{"jsonrpc":"2.0","id":7,')).toBe(true);
    expect(JSON.parse(last)).toMatchObject({ error: { code: ProxyErrorCode.upstreamExited, data: { upstreamExitCode: 3 } } });
  });

  it("ratri's own answer carries the id spelled as the host wrote it (1e2 stays 1e2)", () => {
    const relay = createLinkedRelay({ decide: () => ({ decision: 'block', ruleId: null, reason: 'no' }) });
    relay.host.write(call('1e2'));
    expect(relay.host.lines()[0]?.startsWith('{"jsonrpc":"2.0","id":1e2,')).toBe(true);
  });
});
