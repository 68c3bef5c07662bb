/**
 * Holds (lib/relay/held-calls.ts): a call that needs approval waits in the relay; approved, its own
 * bytes go upstream; rejected, the host gets -32002; cancelled by the host
 * (`notifications/cancelled`, a row of the interception table), neither side hears of it again.
 * A slow policy holds the call too. A second call with a held call's id is refused.
 */
import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../../lib/jsonrpc/errors.js';
import type { GuardAnswer } from '../../lib/policy/policy-hook.js';
import { createLinkedRelay, settle } from '../helpers/relay-harness.js';

const needsApproval = (): GuardAnswer => ({ decision: 'require_approval', ruleId: 'ask', reason: 'ask a human', approvalId: 'ap-1' });
const call = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"rm","arguments":{}}}\n`;
const cancel = (id: number) => `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${id}}}\n`;

describe('relay holds', () => {
  it('approved: the held call goes upstream as its bytes, once the approval comes', async () => {
    const relay = createLinkedRelay({ decide: needsApproval });
    relay.host.write(call(1));
    expect(relay.upstream.bytes().length).toBe(0);
    expect(relay.announced).toEqual(['ap-1']);
    relay.resolveApproval('ap-1', 'approved');
    await settle();
    expect(relay.upstream.bytes().toString()).toBe(call(1));
    expect(relay.calls('approvalResolved')).toEqual([['ap-1', 'srv.rm', 'approved']]);
  });

  it('rejected: the host gets -32002, upstream nothing', async () => {
    const relay = createLinkedRelay({ decide: needsApproval });
    relay.host.write(call(2));
    relay.resolveApproval('ap-1', 'rejected');
    await settle();
    expect(relay.upstream.bytes().length).toBe(0);
    expect(relay.host.messages()[0]).toMatchObject({ id: 2, error: { code: ProxyErrorCode.approvalDenied } });
    expect(relay.calls('toolFinished')[0]?.[1]).toMatchObject({ error: { code: ProxyErrorCode.approvalDenied } });
  });

  it('cancelled while held: the cancel is not forwarded, nothing is answered, the hold ends', async () => {
    const relay = createLinkedRelay({ decide: needsApproval });
    relay.host.write(call(3));
    relay.host.write(cancel(3));
    await settle();
    expect(relay.upstream.bytes().length).toBe(0);
    expect(relay.host.lines()).toEqual([]);
    expect(relay.calls('warning').map((w) => w[0])).toContain('call_cancelled_while_held');
    expect(relay.calls('approvalResolved')).toEqual([['ap-1', 'srv.rm', 'cancelled', 'the host cancelled the call']]);
  });

  it('a cancel for a forwarded request is forwarded as its bytes, and the request is no longer waited for', async () => {
    const relay = createLinkedRelay();
    relay.host.write(call(4));
    relay.host.write(cancel(4));
    expect(relay.upstream.lines()).toEqual([call(4).trim(), cancel(4).trim()]);
    await relay.interceptor.whenAnswered(10_000); // resolves at once: nothing the host waits for
    relay.upstream.exit(1);
    expect(relay.host.lines()).toEqual([]); // a cancelled request gets no -32603
  });

  it('a slow policy holds the call; the verdict that comes later is enacted', async () => {
    let decide: (a: GuardAnswer) => void = () => undefined;
    const relay = createLinkedRelay({ decide: () => new Promise<GuardAnswer>((resolve) => (decide = resolve)) });
    relay.host.write(call(5));
    expect(relay.upstream.bytes().length).toBe(0);
    decide({ decision: 'allow' });
    await settle();
    expect(relay.upstream.bytes().toString()).toBe(call(5));
  });

  it('cancelled while a slow policy decides: an approval it then asks for is recorded as cancelled, and nobody waits for it', async () => {
    let decide: (a: GuardAnswer) => void = () => undefined;
    const relay = createLinkedRelay({ decide: () => new Promise<GuardAnswer>((resolve) => (decide = resolve)) });
    relay.host.write(call(9));
    relay.host.write(cancel(9));
    decide(needsApproval());
    await settle();
    expect(relay.upstream.bytes().length).toBe(0);
    expect(relay.host.lines()).toEqual([]);
    expect(relay.calls('approvalResolved')).toEqual([['ap-1', 'srv.rm', 'cancelled', 'the host cancelled the call']]);
    expect(() => relay.resolveApproval('ap-1', 'approved')).not.toThrow(); // the wait was begun with an aborted signal
    await settle();
    expect(relay.upstream.bytes().length).toBe(0);
  });

  it('a call with the id of a held call is refused -32600; the first keeps its place', async () => {
    const relay = createLinkedRelay({ decide: needsApproval });
    relay.host.write(call(6));
    relay.host.write(call(6));
    expect(relay.host.messages()[0]).toMatchObject({ id: 6, error: { code: ProxyErrorCode.invalidRequest } });
    relay.resolveApproval('ap-1', 'approved');
    await settle();
    expect(relay.upstream.bytes().toString()).toBe(call(6));
  });

  it('the upstream exits while a call is held: the host gets -32603 for it', () => {
    const relay = createLinkedRelay({ decide: needsApproval });
    relay.host.write(call(7));
    relay.upstream.exit(2);
    expect(relay.host.messages()[0]).toMatchObject({ id: 7, error: { code: ProxyErrorCode.upstreamExited } });
  });
});
