/**
 * The gate's verdicts, enacted by the interceptor (lib/relay/verdict.ts, docs/architecture.md): an
 * allowed call goes upstream as its own bytes, a blocked one is answered -32001 and never reaches
 * upstream, monitor mode forwards whatever the policy says and only records it; the observer hears
 * of each call once it was written.
 */
import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../../lib/jsonrpc/errors.js';
import { createLinkedRelay } from '../helpers/relay-harness.js';

const blockEcho = (request: { tool: string }) =>
  request.tool === 'echo' ? { decision: 'block' as const, ruleId: 'no-echo', reason: 'echo is blocked' } : { decision: 'allow' as const };

/** A tools/call written with spacing no serializer would produce, so a re-serialized frame would show. */
const call = (id: number | string, tool: string) =>
  `{"jsonrpc":"2.0",  "id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":{"a": 1}}}\n`;

describe('relay verdicts', () => {
  it('forward: an allowed call reaches upstream byte for byte, and its start is recorded after the verdict', () => {
    const relay = createLinkedRelay({ decide: blockEcho });
    relay.host.write(call(1, 'add'));
    expect(relay.upstream.bytes().toString()).toBe(call(1, 'add'));
    expect(relay.host.lines()).toEqual([]);
    const order = relay.seen.map((s) => s[0]);
    expect(order).toEqual(['describeCall', 'guardrailEvaluated', 'toolStarted']);
  });

  it('answer: a blocked call gets -32001 under its own id, upstream gets nothing, the call is recorded as failed', () => {
    const relay = createLinkedRelay({ decide: blockEcho });
    relay.host.write(call('"a-1"', 'echo'));
    expect(relay.upstream.bytes().length).toBe(0);
    const [answer] = relay.host.messages();
    expect(answer).toMatchObject({
      id: 'a-1',
      error: { code: ProxyErrorCode.blocked, data: { ruleId: 'no-echo', reason: 'echo is blocked' } },
    });
    const [finished] = relay.calls('toolFinished');
    expect(finished?.[1]).toMatchObject({ error: { code: ProxyErrorCode.blocked, message: 'echo is blocked' } });
  });

  it('a blocked notification (no id) is dropped: nothing upstream, nothing to the host, a warning', () => {
    const relay = createLinkedRelay({ decide: blockEcho });
    relay.host.write('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}\n');
    expect(relay.upstream.bytes().length).toBe(0);
    expect(relay.host.lines()).toEqual([]);
    expect(relay.calls('warning').map((w) => w[0])).toEqual(['notification_blocked']);
  });

  it('monitor mode forwards a call the policy blocks, and records the decision as not enforced', () => {
    const relay = createLinkedRelay({ mode: 'monitor', decide: blockEcho });
    relay.host.write(call(2, 'echo'));
    expect(relay.upstream.bytes().toString()).toBe(call(2, 'echo'));
    expect(relay.host.lines()).toEqual([]);
    const [evaluated] = relay.calls('guardrailEvaluated');
    expect(evaluated?.[1]).toMatchObject({ decision: 'block' });
    expect(evaluated?.[2]).toBe(false);
    expect(relay.seen.map((s) => s[0])).toEqual(['describeCall', 'toolStarted', 'guardrailEvaluated']);
  });

  it('monitor mode sends every frame of a host chunk on before it reads any of them', () => {
    const upstreamLinesAtDecisions: number[] = [];
    const relay = createLinkedRelay({
      mode: 'monitor',
      decide: () => {
        upstreamLinesAtDecisions.push(relay.upstream.lines().length);
        return { decision: 'allow' };
      },
    });
    relay.host.write(call(5, 'echo') + call(6, 'add'));
    expect(relay.upstream.bytes().toString()).toBe(call(5, 'echo') + call(6, 'add'));
    expect(upstreamLinesAtDecisions).toEqual([2, 2]);
    expect(relay.calls('describeCall').map((c) => c[0])).toEqual(['5', '6']);
  });

  it('an answer settles its call: the upstream bytes reach the host unchanged and the call is finished', () => {
    const relay = createLinkedRelay();
    relay.host.write(call(3, 'add'));
    const answer = '{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":true}}\n';
    relay.upstream.write(answer);
    expect(relay.host.bytes().toString()).toBe(answer);
    const [finished] = relay.calls('toolFinished');
    expect(finished?.[1]).toMatchObject({ isError: true, resultSize: answer.length - 1 });
  });

  it('a tools/call whose params the policy cannot read is answered -32600, in enforce mode only', () => {
    const bad = '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":7}}\n';
    const enforce = createLinkedRelay();
    enforce.host.write(bad);
    expect(enforce.upstream.bytes().length).toBe(0);
    expect(enforce.host.messages()[0]).toMatchObject({ id: 4, error: { code: ProxyErrorCode.invalidRequest } });
    const monitor = createLinkedRelay({ mode: 'monitor' });
    monitor.host.write(bad);
    expect(monitor.upstream.bytes().toString()).toBe(bad);
  });
});
