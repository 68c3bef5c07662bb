/**
 * A retry is tied to its round only by tool, exact arguments text and requestState; each round
 * continues one retry, and is forgotten after ROUND_TTL_MS (docs/protocol-eras.md).
 */
import { describe, expect, it } from 'vitest';
import { InputRounds, looksLikeRetry, ROUND_TTL_MS } from '../../lib/proxy/input-rounds.js';

const key = { tool: 'confirm_write', argumentsText: '{"path":"/a"}', requestState: 's1' };
const round = { number: 1, firstCallId: '1', approvalId: 'apr_0000000001' };

describe('InputRounds', () => {
  it('continues a round only for the same tool, the same arguments text and the same requestState, once', () => {
    const rounds = new InputRounds();
    rounds.add(key, round, '"ratri-1"');
    expect(rounds.take({ ...key, tool: 'write_file' })).toBeUndefined();
    expect(rounds.take({ ...key, argumentsText: '{"path":"/b"}' })).toBeUndefined();
    expect(rounds.take({ ...key, argumentsText: '{ "path":"/a"}' })).toBeUndefined();
    expect(rounds.take({ ...key, requestState: undefined })).toBeUndefined();
    expect(rounds.take({ ...key, requestState: 's2' })).toBeUndefined();
    expect(rounds.take(key)).toEqual(round);
    expect(rounds.take(key)).toBeUndefined();
  });

  it('when clients share the interceptor, continues a round only for the retry that proves it', () => {
    const rounds = new InputRounds();
    rounds.add(key, round, '"ratri-1"');
    expect(rounds.take(key, '')).toBeUndefined();
    expect(rounds.take(key, '"ratri-2"')).toBeUndefined();
    expect(rounds.take(key, '"ratri-1"')).toEqual(round);
  });

  it('forgets a round after ROUND_TTL_MS', () => {
    let now = 1000;
    const rounds = new InputRounds(() => now);
    rounds.add(key, round, '"ratri-1"');
    now += ROUND_TTL_MS;
    expect(rounds.take(key)).toBeUndefined();
    expect(rounds.size).toBe(0);
  });

  it('keeps at most 256 rounds, forgetting the oldest', () => {
    const rounds = new InputRounds();
    for (let i = 0; i < 257; i++) rounds.add({ ...key, requestState: `s${i}` }, { ...round, firstCallId: String(i) }, String(i));
    expect(rounds.size).toBe(256);
    expect(rounds.take({ ...key, requestState: 's0' })).toBeUndefined();
    expect(rounds.take({ ...key, requestState: 's256' })?.firstCallId).toBe('256');
  });
});

describe('looksLikeRetry', () => {
  it('is true for params with inputResponses or requestState', () => {
    expect(looksLikeRetry({ name: 'x', inputResponses: {} })).toBe(true);
    expect(looksLikeRetry({ name: 'x', requestState: 's' })).toBe(true);
    expect(looksLikeRetry({ name: 'x', arguments: {} })).toBe(false);
    expect(looksLikeRetry(undefined)).toBe(false);
  });
});
