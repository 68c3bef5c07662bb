/**
 * The policy hook: what the interceptor asks about each intercepted call. The control plane
 * (lib/control/) answers it, from a local store or a remote API; this file adds the deadline and
 * the guardFailureMode that apply whichever answers.
 */
import type { Decision, GuardFailureMode, Mode } from '../config/types.js';
import { withDeadline } from '../node/deadline.js';
import type { RuleDecision } from './rules.js';
import type { ToolAnnotations } from './tool-catalog.js';

/** One guardrail question: the body of `POST /v1/guard/evaluate` (docs/api.md). */
export interface GuardRequest {
  agentKey: string;
  environment: string;
  serverName: string;
  /** The bare tool name. */
  tool: string;
  /** The call's arguments as the upstream will read them (rules match them). */
  arguments: Record<string, unknown>;
  /**
   * The tool's annotations from this session's `tools/list` answers (`{}`: listed without any).
   * Absent or null: not listed in this session; the control plane looks in its tool registry.
   */
  annotations?: ToolAnnotations | null;
  /** In monitor mode no approval is created: the call is never held. Absent means enforce. */
  mode?: Mode;
  sessionId?: string;
  /** How long an approval created for this call stays pending. */
  approvalTimeoutMs?: number;
  /** Keys to redact from the arguments before they are stored with an approval. */
  redactKeys?: string[];
  /** The JSON-RPC id of the call, as the host wrote it (shown to the human who approves). */
  requestId?: string;
  /** How long a grant made by approving this call after its host gave up stays usable (approvals.grantWindowMs). */
  grantWindowMs?: number;
  /**
   * The call's W3C trace context (docs/opentelemetry.md#across-the-control-plane). Not part of the
   * body: a remote control plane gets it as the `traceparent` header.
   */
  traceparent?: string;
}

/** The control plane's answer. */
export interface GuardAnswer {
  decision: Decision;
  ruleId?: string | null;
  reason?: string;
  /** Set with `require_approval` in enforce mode: the approval the call now waits for. */
  approvalId?: string;
  /** Set with `require_approval` when no approval could be created: why (the call is refused, -32002). */
  unavailable?: string;
  /** Set when a grant let a `require_approval` call pass (decision `allow`): docs/control-plane.md, "Grants". */
  grantId?: string;
}

/** Decides what happens to one tools/call. */
export interface PolicyHook {
  /** Evaluates a call; answers synchronously when it can, so the call keeps its place in the stream. */
  evaluate(request: GuardRequest): GuardAnswer | Promise<GuardAnswer>;
  /**
   * When `evaluate` failed or was late: an answer the hook can still give on its own, which wins
   * over guardFailureMode. A call its rules said needs approval is refused as `unavailable` (an
   * approval nobody can see is not one); undefined leaves it to guardFailureMode.
   */
  fallback?(request: GuardRequest): GuardAnswer | undefined;
}

/** A `require_approval` answer with the approval the call waits for. */
export function withApproval(decision: RuleDecision, approvalId: string): GuardAnswer {
  return { decision: 'require_approval', ruleId: decision.ruleId, reason: decision.reason, approvalId };
}

/** A `require_approval` answer without an approval: the call is refused (-32002, outcome `unavailable`). */
export function unavailable(decision: Pick<RuleDecision, 'ruleId' | 'reason'>, why: unknown): GuardAnswer {
  const text = typeof why === 'string' ? why : ((why as Error)?.message ?? String(why));
  return { decision: 'require_approval', ruleId: decision.ruleId, reason: decision.reason, unavailable: text };
}

export interface PolicyVerdict extends RuleDecision {
  /** How long the evaluation took, in milliseconds. */
  latencyMs: number;
  /**
   * Set when the control plane did not answer (then guardFailureMode or the hook's fallback decided),
   * or when a `require_approval` call got no approval: why.
   */
  failure?: string;
  /** The approval a `require_approval` call waits for. */
  approvalId?: string;
  /** The grant that let a `require_approval` call pass. */
  grantId?: string;
}

/**
 * Runs the hook under the deadline; when it throws or is late, guardFailureMode decides:
 * fail_open allows (and says why), fail_closed blocks with "control plane unavailable".
 * A hook that answers synchronously gets a synchronous verdict, so the call keeps its place in
 * the stream (nothing sent after it overtakes it).
 */
export function evaluateWithDeadline(
  hook: PolicyHook,
  request: GuardRequest,
  timeoutMs: number,
  failureMode: GuardFailureMode,
): PolicyVerdict | Promise<PolicyVerdict> {
  const started = performance.now();
  // Built as literals: this runs for every tools/call, and object spread is slow in Node 20.
  const finish = (d: GuardAnswer, failure?: string): PolicyVerdict => {
    const verdict: PolicyVerdict = {
      decision: d.decision,
      ruleId: d.ruleId ?? null,
      reason: d.reason ?? (d.ruleId ? `matched rule "${d.ruleId}"` : 'no rule matched'),
      latencyMs: performance.now() - started,
    };
    if (d.approvalId) verdict.approvalId = d.approvalId;
    if (d.grantId) verdict.grantId = d.grantId;
    const why = failure ?? d.unavailable;
    if (why) verdict.failure = why;
    return verdict;
  };
  const failed = (err: unknown): PolicyVerdict => {
    const fallback = hook.fallback?.(request);
    if (fallback) return finish(fallback, `${fallback.unavailable ?? 'no answer'}; ${(err as Error)?.message ?? String(err)}`);
    const closed = failureMode === 'fail_closed';
    const decision: Decision = closed ? 'block' : 'allow';
    const reason = closed ? 'control plane unavailable' : 'control plane unavailable; allowed (fail_open)';
    return finish({ decision, ruleId: null, reason }, (err as Error)?.message ?? String(err));
  };
  let answer: GuardAnswer | Promise<GuardAnswer>;
  try {
    answer = hook.evaluate(request);
  } catch (err) {
    return failed(err);
  }
  if (!(answer instanceof Promise)) return finish(answer);
  const late = (): never => {
    throw new Error(`no answer within guardTimeoutMs (${timeoutMs} ms)`);
  };
  return withDeadline(answer, timeoutMs, late).then(
    (d) => finish(d),
    (err: unknown) => failed(err),
  );
}

/** Calls `then` with a value that may or may not be a promise, synchronously when it is not. */
export function whenSettled<T>(value: T | Promise<T>, then: (v: T) => void): void {
  if (value instanceof Promise) void value.then(then);
  else then(value);
}
