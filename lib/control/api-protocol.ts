/**
 * What the HTTP client (`http-control-plane.ts`) and the server (`api-server.ts`) of the control-plane
 * API (docs/api.md) agree on, beyond the shapes in control-plane.ts: the extra field of
 * the evaluate body, how decisions rank, and the batch limits.
 */
import type { Decision } from '../config/types.js';
import type { GuardAnswer, GuardRequest } from '../policy/policy-hook.js';
import { SEVERITY } from '../policy/rules.js';

/**
 * The proxy's own rules' verdict on a call, sent with `POST /v1/guard/evaluate` when it is
 * `require_approval`: the server answers at least this restrictively and, for `require_approval`,
 * creates the approval itself, because only the server can make an approval a human can resolve.
 * A client can only make its own calls stricter with it, never looser.
 */
export interface LocalDecision {
  decision: Decision;
  ruleId?: string | null;
  reason?: string;
}

/** The body of `POST /v1/guard/evaluate`: the GuardRequest, plus the proxy's local verdict. */
export interface EvaluateBody extends GuardRequest {
  localDecision?: LocalDecision;
}

/** The decisions, least restrictive first (docs/policy.md: block > require_approval > warn > allow). */
export const DECISIONS = Object.keys(SEVERITY) as Decision[];

/** How restrictive a decision is: higher is stricter. */
export function severity(decision: Decision): number {
  return SEVERITY[decision];
}

/**
 * The more restrictive of two answers; on a tie the second (the remote one, which may carry the
 * approval the call must wait for).
 */
export function moreRestrictive(first: GuardAnswer, second: GuardAnswer): GuardAnswer {
  // A grant of the server's passes the proxy's own require_approval: the server checked it against that rule's call.
  if (second.grantId && first.decision === 'require_approval') return second;
  return severity(first.decision) > severity(second.decision) ? first : second;
}

/** Events per `POST /v1/events` the client sends (the proxy's queue flushes batches of this size too). */
export const EVENT_BATCH_MAX = 500;

/** The largest request body the server reads; larger ones are answered 413. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The API's paths, relative to the base URL (no leading slash, so a base URL with a path keeps it). */
export const ApiPath = {
  evaluate: 'v1/guard/evaluate',
  events: 'v1/events',
  defineTools: 'v1/tools/define',
  tools: 'v1/tools',
  approvals: 'v1/approvals',
  approval: (id: string): string => `v1/approvals/${encodeURIComponent(id)}`,
  resolve: (id: string): string => `v1/approvals/${encodeURIComponent(id)}/resolve`,
  expire: (id: string): string => `v1/approvals/${encodeURIComponent(id)}/expire`,
  grants: 'v1/grants',
  revokeGrant: (id: string): string => `v1/grants/${encodeURIComponent(id)}/revoke`,
} as const;
