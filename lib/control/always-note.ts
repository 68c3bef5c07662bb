/**
 * What "approve always" did for one held call, in words, for `ratri approvals approve --always` and
 * the dashboard's "Approve always" button. It adds the tool to the agent's boundary map and trusts
 * its definition; only the `require_approval_unknown_mcp_tools` template reads that map, so when a
 * rule of its own asked for the approval, the rule keeps asking (docs/control-plane.md, "Approve always").
 */
import type { ApprovalRecord } from './control-plane.js';

/** The template whose approvals "always" ends: it asks for tools not in the boundary map. */
export const BOUNDARY_TEMPLATE = 'require_approval_unknown_mcp_tools';

/** One sentence (no final full stop) on what "always" changed for `approval`'s tool, and what it did not. */
export function alwaysNote(approval: ApprovalRecord): string {
  const tool = `${approval.serverName}.${approval.tool}`;
  const did = `${tool} joined the approved tools of agent ${approval.agentKey} and its current definition is trusted`;
  if (approval.ruleId === BOUNDARY_TEMPLATE) return `${did}, so ${BOUNDARY_TEMPLATE} no longer asks for it`;
  return `${did}; but rule "${approval.ruleId ?? '(none)'}" asked for this approval and still applies: its next matching call is held again (--always changes no rule)`;
}
