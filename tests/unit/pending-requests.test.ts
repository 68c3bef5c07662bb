import { describe, expect, it } from 'vitest';
import { PendingRequests } from '../../lib/proxy/pending-requests.js';

const entry = (id: number) => ({ rawId: String(id), method: 'tools/call' });
const settledWithin = async (promise: Promise<void>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('PendingRequests', () => {
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

  it('counts a request that reuses the id of a cancelled one as waited for', async () => {
    const pending = new PendingRequests();
    pending.add('1', entry(1));
    pending.cancel('1');
    pending.add('1', entry(1));
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(false);
    pending.settle('1');
    expect(await settledWithin(pending.whenAnswered(10_000), 50)).toBe(true);
  });
});
