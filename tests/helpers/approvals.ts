/** Helpers for tests that resolve held calls with the real `ratri approvals` command, as a second terminal would. */
import { expect } from 'vitest';
import { runCli } from './cli.js';

/** Runs `ratri approvals …` against the store. */
export function approvals(store: string, ...args: string[]) {
  return runCli(['approvals', ...args, '--store', store]);
}

/** Waits (up to 10 s) until at least `count` approvals are pending in the store, and returns them. */
export async function pendingApprovals(store: string, count = 1): Promise<Array<Record<string, any>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await approvals(store, 'list', '--json');
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, any>>;
    if (list.length >= count) return list;
    if (Date.now() > deadline) throw new Error(`no pending approval appeared in ${store}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
