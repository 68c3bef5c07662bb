/**
 * How an approval's arguments are shown. They are stored whole (redacted, never cut: the approver
 * must see the call as the upstream will get it), so one huge argument must not flood a list: past
 * a ceiling, lists say how large they are and where to read them whole (`ratri approvals show ID`,
 * the dashboard's "Show all"). See docs/control-plane.md#approvals-end-to-end.
 */
import type { ApprovalRecord } from '../control/control-plane.js';

/** Arguments whose JSON is longer than this many characters are not printed in lists. */
export const SHOWN_ARGUMENT_CHARS = 64 * 1024;

/** The arguments' JSON, or a note saying they are too large to show here. */
export function argumentsInList(a: ApprovalRecord, json: string = JSON.stringify(a.arguments)): string {
  if (json.length <= SHOWN_ARGUMENT_CHARS) return json;
  return `too large to show here: ${Buffer.byteLength(json)} bytes (ratri approvals show ${a.id})`;
}
