/**
 * Following the calls held for approval, for `ratri approvals watch` (docs/control-plane.md): the
 * pending approvals are read every `intervalMs`, and each one not seen before is reported once, oldest
 * first. It reads through the ControlPlane, so it works on the embedded store and on a remote API.
 */
import type { ApprovalRecord, ControlPlane } from './control-plane.js';

export interface WatchOptions {
  intervalMs: number;
  /** Ends the watch. */
  signal: AbortSignal;
  /** Approvals pending when the watch starts are reported too (default), or only later ones. */
  includeExisting?: boolean;
}

export async function watchApprovals(plane: ControlPlane, onNew: (approval: ApprovalRecord) => void, options: WatchOptions): Promise<void> {
  const seen = new Set<string>();
  let first = true;
  while (!options.signal.aborted) {
    const pending = await plane.listApprovals('pending');
    for (const approval of [...pending].reverse()) {
      if (seen.has(approval.id)) continue;
      seen.add(approval.id);
      if (!first || options.includeExisting !== false) onNew(approval);
    }
    first = false;
    // Forget approvals no longer pending, so the set stays as small as the queue.
    const ids = new Set(pending.map((a) => a.id));
    for (const id of seen) if (!ids.has(id)) seen.delete(id);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs);
      options.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}

/** The newest pending approval (`ratri approvals approve --last`), or undefined when none is pending. */
export async function lastPending(plane: ControlPlane): Promise<ApprovalRecord | undefined> {
  return (await plane.listApprovals('pending'))[0];
}
