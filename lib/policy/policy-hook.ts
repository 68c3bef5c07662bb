/**
 * The policy hook: what the interceptor asks about each intercepted call, and who resolves a call
 * held for approval. The interceptor knows only these interfaces; the control-plane issue plugs in
 * a store-backed hook and a human approver without touching the proxy.
 */
import type { Decision, GuardFailureMode } from '../config/types.js';
import { evaluateRules, type RuleDecision, type ToolCallFacts } from './rules.js';
import type { GuardrailsConfig } from '../config/types.js';

export interface PolicyVerdict extends RuleDecision {
  /** How long the evaluation took, in milliseconds. */
  latencyMs: number;
  /** Set when the control plane did not answer and guardFailureMode decided instead. */
  failure?: string;
}

/** Decides what happens to one tools/call. */
export interface PolicyHook {
  /** Evaluates a call; must settle (the interceptor adds the deadline from guardTimeoutMs). */
  evaluate(facts: ToolCallFacts): Promise<RuleDecision> | RuleDecision;
  /** Whether a tool is in the agent's boundary map (approved "always"). */
  inBoundary(serverName: string, tool: string): boolean;
}

export type ApprovalOutcome = 'approved' | 'rejected' | 'timeout';

export interface ApprovalRequest {
  approvalId: string;
  facts: ToolCallFacts;
  decision: RuleDecision;
  timeoutMs: number;
}

/** Resolves held calls. */
export interface Approver {
  /**
   * Waits for a human (or the timeout). Must settle with 'timeout' after `timeoutMs` at the latest;
   * when `signal` aborts (the host cancelled the call, or the proxy is stopping) it may settle with anything.
   */
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome>;
}

/** The embedded hook of this version: guardrail rules from the config, an in-memory boundary map. */
export class LocalPolicyHook implements PolicyHook {
  private readonly boundary = new Set<string>();

  constructor(private readonly guardrails: GuardrailsConfig) {}

  evaluate(facts: ToolCallFacts): RuleDecision {
    return evaluateRules(this.guardrails, facts);
  }

  inBoundary(serverName: string, tool: string): boolean {
    return this.boundary.has(`${serverName}.${tool}`);
  }

  /** Adds a tool to the boundary map ("approve always"). */
  approveAlways(serverName: string, tool: string): void {
    this.boundary.add(`${serverName}.${tool}`);
  }
}

/**
 * The approver of this version: nobody can approve yet, so a held call waits `approvalTimeoutMs`
 * and then times out. It still honours cancellation, so the hold ends as soon as the host gives up.
 */
export class TimeoutApprover implements Approver {
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), request.timeoutMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve('rejected');
        },
        { once: true },
      );
    });
  }
}

/**
 * Runs the hook under the deadline; when it throws or is late, guardFailureMode decides:
 * fail_open allows (and says why), fail_closed blocks with "control plane unavailable".
 * A hook that answers synchronously gets a synchronous verdict, so the call keeps its place in
 * the stream (nothing sent after it overtakes it).
 */
export function evaluateWithDeadline(
  hook: PolicyHook,
  facts: ToolCallFacts,
  timeoutMs: number,
  failureMode: GuardFailureMode,
): PolicyVerdict | Promise<PolicyVerdict> {
  const started = performance.now();
  // Built as literals: this runs for every tools/call, and object spread is slow in Node 20.
  const finish = (d: RuleDecision, failure?: string): PolicyVerdict => {
    const verdict: PolicyVerdict = { decision: d.decision, ruleId: d.ruleId, reason: d.reason, latencyMs: performance.now() - started };
    if (failure) verdict.failure = failure;
    return verdict;
  };
  const failed = (err: unknown): PolicyVerdict => {
    const closed = failureMode === 'fail_closed';
    const decision: Decision = closed ? 'block' : 'allow';
    const reason = closed ? 'control plane unavailable' : 'control plane unavailable; allowed (fail_open)';
    return finish({ decision, ruleId: null, reason }, (err as Error)?.message ?? String(err));
  };
  let answer: RuleDecision | Promise<RuleDecision>;
  try {
    answer = hook.evaluate(facts);
  } catch (err) {
    return failed(err);
  }
  if (!(answer instanceof Promise)) return finish(answer);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within guardTimeoutMs (${timeoutMs} ms)`)), timeoutMs);
  });
  return Promise.race([answer, late]).then(
    (d) => finish(d),
    (err: unknown) => failed(err),
  ).finally(() => clearTimeout(timer));
}

/** Calls `then` with a value that may or may not be a promise, synchronously when it is not. */
export function whenSettled<T>(value: T | Promise<T>, then: (v: T) => void): void {
  if (value instanceof Promise) void value.then(then);
  else then(value);
}
