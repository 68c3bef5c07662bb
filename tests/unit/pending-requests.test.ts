/**
 * How answers find their request: by the id's exact text, a re-serialised number only when
 * unambiguous, reused ids in order; and what the host still waits for once it cancelled a request.
 */
import { describe, expect, it } from 'vitest';
import { rawIdKey } from '../../lib/jsonrpc/message.js';
import { HeldCalls } from '../../lib/relay/held-calls.js';
import { PendingRequests } from '../../lib/relay/pending-requests.js';
import type { CallRecord } from '../../lib/relay/ports.js';

const entry = (id: number) => ({ rawId: String(id), method: 'tools/call' });
const settledWithin = async (promise: Promise<void>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

function pendingWith(...rawIds: string[]): PendingRequests {
  const pending = new PendingRequests();
  rawIds.forEach((rawId, i) => pending.add(rawIdKey(rawId), { rawId, method: `m${i}` }));
  return pending;
}

describe('PendingRequests', () => {
  it('settles by the exact text first: 7 and 7.0 are two requests', () => {
    const pending = pendingWith('7', '7.0');
    expect(pending.settle(rawIdKey('7.0'))?.rawId).toBe('7.0');
    expect(pending.settle(rawIdKey('7'))?.rawId).toBe('7');
    expect(pending.size).toBe(0);
  });

  it('settles an answer that re-serialised the number (7.0 → 7, 1e2 → 100) when one request has that value', () => {
    const pending = pendingWith('7.0', '1e2', '"7"');
    expect(pending.peek(rawIdKey('7'))?.rawId).toBe('7.0');
    expect(pending.settle(rawIdKey('7'))?.rawId).toBe('7.0');
    expect(pending.settle(rawIdKey('100'))?.rawId).toBe('1e2');
    expect(pending.settle(rawIdKey('7'))).toBeUndefined(); // the string "7" is not the number 7
    expect(pending.settle(rawIdKey('"\\u0037"'))?.rawId).toBe('"7"'); // strings compare by value
  });

  it('settles a long integer id an upstream rounded (16 digits and more are not written back as sent)', () => {
    const pending = pendingWith('12345678901234567890', '9007199254740993', '123456789012345');
    expect(pending.settle(rawIdKey('12345678901234567000'))?.rawId).toBe('12345678901234567890');
    expect(pending.settle(rawIdKey('9007199254740992'))?.rawId).toBe('9007199254740993');
    expect(pending.settle(rawIdKey('123456789012345'))?.rawId).toBe('123456789012345');
    expect(pending.size).toBe(0);
  });

  it('settles nothing when the value is ambiguous (7.0 and 7.00 pending, the answer says 7)', () => {
    const pending = pendingWith('7.0', '7.00');
    expect(pending.settle(rawIdKey('7'))).toBeUndefined();
    expect(pending.size).toBe(2);
    expect(pending.settle(rawIdKey('7.00'))?.rawId).toBe('7.00');
    expect(pending.settle(rawIdKey('7'))?.rawId).toBe('7.0'); // unambiguous now
  });

  it('keeps a reused id: answers settle the requests in the order they were sent, and drain returns all', () => {
    const pending = pendingWith('9', '9', '9');
    expect(pending.size).toBe(3);
    expect(pending.settle('9')?.method).toBe('m0');
    expect(pending.settle('9')?.method).toBe('m1');
    expect(pending.drain().map((p) => p.method)).toEqual(['m2']);
    expect(pending.size).toBe(0);
  });

  it('stops waiting for a request the host cancelled, but keeps it for its late answer', async () => {
    const pending = new PendingRequests();
    pending.add('1', entry(1));
    pending.add('2', entry(2));
    const answered = pending.whenAnswered(10_000);
    pending.cancel('1');
    expect(await settledWithin(answered, 50)).toBe(false); // 2 is still waited for
    pending.settle('2');
    expect(await settledWithin(answered, 50)).toBe(true);
    expect(pending.size).toBe(1);
    expect(pending.settle('1')).toMatchObject({ rawId: '1', cancelled: true });
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(true);
  });

  it('counts a request that reuses the id of a cancelled one as waited for, until its own answer', async () => {
    const pending = new PendingRequests();
    pending.add('1', entry(1));
    pending.cancel('1');
    pending.add('1', entry(1));
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(false);
    expect(pending.settle('1')).toMatchObject({ cancelled: true }); // answers come in order: the cancelled one first
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(false);
    pending.settle('1');
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(true);
  });

  it('finds an id in use under its own text or as the same number spelled otherwise, never a string', () => {
    const pending = pendingWith('7.0', '9', '"8"', '12345678901234567890');
    expect(pending.idInUse(rawIdKey('9'))).toBe('9');
    expect(pending.idInUse(rawIdKey('7'))).toBe('7.0');
    expect(pending.idInUse(rawIdKey('70e-1'))).toBe('7.0');
    expect(pending.idInUse(rawIdKey('9.0'))).toBe('9');
    expect(pending.idInUse(rawIdKey('12345678901234567000'))).toBe('12345678901234567890'); // the same double
    expect(pending.idInUse(rawIdKey('8'))).toBeUndefined(); // the string "8" is not the number 8
    expect(pending.idInUse(rawIdKey('"\\u0038"'))).toBe('"8"');
    expect(pending.idInUse(rawIdKey('"7"'))).toBeUndefined();
    expect(pending.idInUse(rawIdKey('10'))).toBeUndefined();
    pending.settle(rawIdKey('7.0'));
    expect(pending.idInUse(rawIdKey('7'))).toBeUndefined(); // free once answered
  });
});

describe('HeldCalls', () => {
  it('finds a held id under its own text or as the same number spelled otherwise', () => {
    const held = new HeldCalls();
    const call = (rawId: string) => ({ rawId, call: {} as CallRecord, abort: new AbortController() });
    held.hold('5.0', call('5.0'));
    held.hold('"a"', call('"a"'));
    expect(held.idInUse('5')).toBe('5.0');
    expect(held.idInUse('5.0')).toBe('5.0');
    expect(held.idInUse('"a"')).toBe('"a"');
    expect(held.idInUse('"5"')).toBeUndefined();
    expect(held.idInUse('6')).toBeUndefined();
  });
});
