/**
 * Host batches in enforce mode (lib/relay/batch.ts): a batch nothing in is refused or held goes
 * whole, as its own bytes; otherwise the forwarded elements go as a smaller batch of their original
 * bytes and the refusals come back as one array.
 */
import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../../lib/jsonrpc/errors.js';
import { createLinkedRelay } from '../helpers/relay-harness.js';

const blockEcho = (request: { tool: string }) =>
  request.tool === 'echo' ? { decision: 'block' as const, ruleId: 'r', reason: 'no echo' } : { decision: 'allow' as const };

const add = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a" :1}}}';
const echo = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}';
const ping = '{"jsonrpc":"2.0","id":3,"method":"ping"}';

describe('relay batches', () => {
  it('a batch with nothing to refuse goes upstream as the very bytes the host wrote', () => {
    const relay = createLinkedRelay({ decide: blockEcho });
    const batch = `[ ${add} , ${ping} ]\n`;
    relay.host.write(batch);
    expect(relay.upstream.bytes().toString()).toBe(batch);
    expect(relay.host.lines()).toEqual([]);
  });

  it('a refused element is cut out: the rest go as a smaller batch of their bytes, the refusal as an array', () => {
    const relay = createLinkedRelay({ decide: blockEcho });
    relay.host.write(`[${add},${echo},${ping}]\n`);
    expect(relay.upstream.lines()).toEqual([`[${add},${ping}]`]);
    const answers = JSON.parse(relay.host.lines()[0] as string) as unknown[];
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ id: 2, error: { code: ProxyErrorCode.blocked } });
  });

  it('a member that is not a message object gets -32600 with a null id; the others go on', () => {
    const relay = createLinkedRelay();
    relay.host.write(`[${ping},7]\n`);
    expect(relay.upstream.lines()).toEqual([`[${ping}]`]);
    expect(JSON.parse(relay.host.lines()[0] as string)).toMatchObject([{ id: null, error: { code: ProxyErrorCode.invalidRequest } }]);
  });

  it('the answers to a forwarded batch settle each request', () => {
    const relay = createLinkedRelay();
    relay.host.write(`[${add},${ping}]\n`);
    relay.upstream.write('[{"jsonrpc":"2.0","id":3,"result":{}},{"jsonrpc":"2.0","id":1,"result":{"content":[]}}]\n');
    expect(relay.calls('toolFinished')).toHaveLength(1);
    relay.upstream.exit(0);
    expect(relay.host.lines()).toHaveLength(1); // nothing was left pending for the exit to answer
  });

  it('a batch that repeats an id (or its number) has the repeat refused and the rest forwarded as their bytes', () => {
    const relay = createLinkedRelay();
    const again = '{"jsonrpc":"2.0","id":3.0,"method":"ping"}';
    const other = '{"jsonrpc":"2.0","id":4,"method":"ping"}';
    relay.host.write(`[${ping},${again},${other}]\n`);
    expect(relay.upstream.lines()).toEqual([`[${ping},${other}]`]);
    expect(JSON.parse(relay.host.lines()[0] as string)).toMatchObject([{ id: 3, error: { code: ProxyErrorCode.invalidRequest } }]);
    expect(relay.host.lines()[0]).toContain('"id":3.0,');
  });

  it('a batch member with the id of a request still pending is refused, though nothing else in it is read', () => {
    const relay = createLinkedRelay();
    relay.host.write(`${add}\n`);
    const other = '{"jsonrpc":"2.0","id":4,"method":"ping"}';
    relay.host.write(`[${other},{"jsonrpc":"2.0","id":1,"method":"ping"}]\n`);
    expect(relay.upstream.lines()).toEqual([add, `[${other}]`]);
    expect(JSON.parse(relay.host.lines()[0] as string)).toMatchObject([{ id: 1, error: { code: ProxyErrorCode.invalidRequest } }]);
  });
});
