/** The one deadline helper: the value when in time, `late()` when not, rejections passed through, and no timer left behind. */
import { describe, expect, it, vi } from 'vitest';
import { settlesWithin, withDeadline } from '../../lib/node/deadline.js';

const resolvesAfter = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms));

describe('withDeadline', () => {
  it('resolves with the value when the promise settles in time', async () => {
    expect(await withDeadline(resolvesAfter(5, 'answer'), 1000, () => 'late')).toBe('answer');
  });

  it('resolves with late() when the time runs out, undefined without it', async () => {
    expect(await withDeadline(resolvesAfter(1000, 'answer'), 10, () => 'late')).toBe('late');
    expect(await withDeadline(new Promise(() => undefined), 10)).toBeUndefined();
  });

  it('rejects with what late() throws, and passes an early rejection through', async () => {
    const late = (): never => {
      throw new Error('no answer within 10 ms');
    };
    await expect(withDeadline(new Promise(() => undefined), 10, late)).rejects.toThrow('no answer within 10 ms');
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000, late)).rejects.toThrow('refused');
  });

  it('clears its timer once the race is decided', async () => {
    vi.useFakeTimers();
    try {
      const done = withDeadline(Promise.resolve(1), 60_000, () => 2);
      await vi.advanceTimersByTimeAsync(0);
      expect(await done).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('settlesWithin', () => {
  it('is true when the promise settles (either way) in time, false when not', async () => {
    expect(await settlesWithin(resolvesAfter(5, 'x'), 1000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('x')), 1000)).toBe(true);
    expect(await settlesWithin(resolvesAfter(1000, 'x'), 10)).toBe(false);
  });
});
