/**
 * Which grant a resolution makes, and what a call a grant let through is answered with
 * (docs/control-plane.md, "Grants"). Shared by the embedded store and `ratri serve`, so both make
 * and honour grants the same way.
 */
import type { RuleDecision } from '../policy/rules.js';
import type { GrantFacts } from './approval-store.js';
import type { ApprovalRecord, ApprovalScope, GrantRecord, ResolveOptions } from './control-plane.js';
import type { NewGrant } from './grant-store.js';
import { isoTime } from './store.js';

/**
 * The grant approving `approval` makes, or undefined: "always" makes an always grant (of the tool,
 * or with `argsMatch` of these arguments); approving a call whose host is gone makes a once grant of
 * these arguments for the approval's grant window.
 */
export function grantFromResolution(
  approval: ApprovalRecord,
  facts: GrantFacts,
  scope: ApprovalScope,
  resolvedBy: string,
  options: ResolveOptions,
): NewGrant | undefined {
  const base = {
    agentKey: approval.agentKey,
    serverName: approval.serverName,
    tool: approval.tool,
    approvalId: approval.id,
    createdBy: resolvedBy,
  };
  if (scope === 'always')
    return { ...base, kind: 'always', argumentsHash: options.argsMatch ? facts.argumentsHash : null, expiresAt: null };
  if (!facts.hostGoneAt || facts.grantWindowMs <= 0 || !facts.argumentsHash) return undefined;
  return { ...base, kind: 'once', argumentsHash: facts.argumentsHash, expiresAt: isoTime(Date.now() + facts.grantWindowMs) };
}

/** The answer for a `require_approval` call a grant lets pass: allowed, naming the grant and the rule that asked. */
export function grantedAnswer(grant: GrantRecord, decision: RuleDecision): RuleDecision & { grantId: string } {
  const what = grant.kind === 'once' ? 'a one-time grant from a late approval' : 'an always grant';
  const by = grant.approvalId ? ` (approval ${grant.approvalId}${grant.createdBy ? ` by ${grant.createdBy}` : ''})` : '';
  return {
    decision: 'allow',
    ruleId: decision.ruleId,
    reason: `${decision.reason}; allowed by ${what} ${grant.id}${by}`,
    grantId: grant.id,
  };
}
