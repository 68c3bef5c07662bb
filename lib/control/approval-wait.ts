/**
 * Waiting for a human: polls an approval's status until it is resolved, its time runs out, or the
 * wait is abandoned. Shared by the local store (polled every 100 ms: a single indexed read) and the
 * remote API (every 200 ms), so both learn of a resolution made elsewhere within 250 ms.
 */
import type { ApprovalStatus } from './control-plane.js';

export type ApprovalOutcome = 'approved' | 'rejected' | 'timeout';

export interface ApprovalSource {
  /** The approval's status now (undefined: unknown, keep asking). */
  status(id: string): ApprovalStatus | undefined | Promise<ApprovalStatus | undefined>;
  /**
   * Nobody waits for the approval any more: it is expired, or left pending as host-gone when it has a
   * grant window (approval-store.ts leave); returns its status afterwards (a human may have won the race).
   */
  expire(id: string): ApprovalStatus | undefined | Promise<ApprovalStatus | undefined>;
}

function outcomeOf(status: ApprovalStatus | undefined): ApprovalOutcome | undefined {
  if (status === 'approved' || status === 'rejected') return status;
  if (status === 'expired') return 'timeout';
  return undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Resolves with the outcome; after `signal` aborts (the host cancelled, the proxy is stopping) the
 * approval is handed to `expire` (expired, or left to become a grant) and 'rejected' is returned.
 */
export async function waitForApproval(
  source: ApprovalSource,
  id: string,
  timeoutMs: number,
  signal: AbortSignal,
  pollMs: number,
): Promise<ApprovalOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) {
      await Promise.resolve(source.expire(id)).catch(() => undefined);
      return 'rejected';
    }
    let status: ApprovalStatus | undefined;
    try {
      status = await source.status(id);
    } catch {
      status = undefined; // a failed poll (the API is away for a moment) is retried until the deadline
    }
    const outcome = outcomeOf(status);
    if (outcome) return outcome;
    const left = deadline - Date.now();
    if (left <= 0) {
      const after = await Promise.resolve(source.expire(id)).catch(() => undefined);
      return after === 'approved' || after === 'rejected' ? after : 'timeout';
    }
    await sleep(Math.min(pollMs, left), signal);
  }
}
