/**
 * What approving a held call did, in words, for `ratri approvals approve` and the dashboard's
 * buttons. "Always" adds the tool to the agent's boundary map, trusts its definition and stores an
 * always grant that passes `require_approval` rules for that agent (never `block`); approving a call
 * whose host is gone stores a one-time grant instead (docs/control-plane.md, "Grants").
 */
import type { ApprovalRecord, GrantRecord } from './control-plane.js';

/** The template whose approvals "always" ends through the boundary map: it asks for tools not in it. */
export const BOUNDARY_TEMPLATE = 'require_approval_unknown_mcp_tools';

/** One sentence (no final full stop) on what "always" changed for `approval`'s tool. */
export function alwaysNote(approval: ApprovalRecord, grant?: GrantRecord): string {
  const tool = `${approval.serverName}.${approval.tool}`;
  const did = `${tool} joined the approved tools of agent ${approval.agentKey} and its current definition is trusted`;
  if (approval.ruleId === BOUNDARY_TEMPLATE || !grant) return `${did}, so ${BOUNDARY_TEMPLATE} no longer asks for it`;
  const calls = grant.argsMatch ? 'its calls with these same arguments' : 'its calls';
  return `${did}; grant ${grant.id} lets ${calls} pass rule "${approval.ruleId ?? '(none)'}" and any other require_approval for this agent without a hold (block rules still apply; ratri grants revoke ${grant.id} ends it)`;
}

/** What happens now to the approved call (no final full stop): forwarded, or — its host gone — a grant for its retry. */
export function approvedNote(approval: ApprovalRecord, grant?: GrantRecord): string {
  if (!approval.hostGoneAt) return 'the waiting proxy forwards the call';
  const gone = 'its host is no longer waiting (it cancelled the call, or the hold ended), so nothing is forwarded now';
  if (grant?.kind !== 'once') return grant ? gone : `${gone}, and no grant was made (approvals.grantWindowMs is 0)`;
  return `${gone}; grant ${grant.id} lets the same call (the same tool and arguments) from agent ${approval.agentKey} pass once without a new hold until ${grant.expiresAt}`;
}
