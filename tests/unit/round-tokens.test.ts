/**
 * The HTTP front's round tokens: an `input_required` answer's requestState is swapped for a token of
 * the front's; a retry echoing it gets the upstream's value back once, with the round it proves.
 */
import { describe, expect, it } from 'vitest';
import { ROUND_TTL_MS } from '../../lib/proxy/input-rounds.js';
import { RoundTokens } from '../../lib/transport/round-tokens.js';

const answer = (state: string) =>
  Buffer.from(`{"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required","inputRequests":{},"requestState":${state}}}`);
const retry = (state: string) =>
  Buffer.from(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"t","requestState":${state}}}`);

describe('RoundTokens', () => {
  it('issues a token for an input_required answer and redeems it once for the upstream value', () => {
    const tokens = new RoundTokens();
    const token = tokens.issue(answer('"s\\u0031"'), '"ratri-1"')!;
    expect(JSON.parse(token)).toMatch(/^ratri-round:[0-9a-f-]{36}$/);
    expect(tokens.redeem(retry('"s\\u0031"'))).toBeUndefined(); // the upstream's own value proves nothing
    expect(tokens.redeem(retry(token))).toEqual({ requestState: '"s\\u0031"', answered: '"ratri-1"' });
    expect(tokens.redeem(retry(token))).toBeUndefined();
  });

  it('issues nothing for other answers, and forgets tokens after ROUND_TTL_MS', () => {
    let now = 0;
    const tokens = new RoundTokens(() => now);
    expect(tokens.issue(Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"content":[],"requestState":"x"}}'), '"ratri-1"')).toBeUndefined();
    expect(tokens.issue(answer('{"not":"a string"}'), '"ratri-1"')).toBeUndefined();
    const token = tokens.issue(answer('"s"'), '"ratri-1"')!;
    now += ROUND_TTL_MS;
    expect(tokens.redeem(retry(token))).toBeUndefined();
  });
});
