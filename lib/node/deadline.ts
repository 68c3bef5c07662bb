/**
 * The one deadline helper: waits for a promise, but not longer than a given time. Every bounded
 * wait in ratri (a policy answer, a sink's flush, an upstream's exit, a replay's connection, the
 * doctor's requests) goes through it, so the timer is always cleared when the race ends and no
 * wait keeps the process alive after it is decided.
 */

/**
 * Resolves with `promise`'s value, or, when it has not settled after `ms`, with what `late()`
 * returns (undefined without it; a `late` that throws rejects instead). A rejection of `promise`
 * before the deadline passes through.
 */
export function withDeadline<T, L = undefined>(promise: PromiseLike<T>, ms: number, late?: () => L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<L>((resolve, reject) => {
    timer = setTimeout(
      () => {
        try {
          resolve(late ? late() : (undefined as L));
        } catch (err) {
          reject(err);
        }
      },
      Math.max(0, ms),
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** True when `promise` settles within `ms`, false when the time ran out first. */
export function settlesWithin(promise: PromiseLike<unknown>, ms: number): Promise<boolean> {
  return withDeadline(
    Promise.resolve(promise).then(
      () => true,
      () => true,
    ),
    ms,
    () => false,
  );
}
