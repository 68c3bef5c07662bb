/**
 * The policy gate for one `tools/call`: it returns a verdict (verdict.ts) and writes nothing. In
 * monitor mode the verdict is `forward` at once and the policy's decision is only recorded; in
 * enforce mode it is `forward`, `answer` with a refusal (-32001), or `hold` for approval (-32002
 * when rejected or timed out). Holds never block other traffic. A 2026-07-28-era call is refused in
 * its own era's way (a tool result with `isError`, docs/errors.md), and the retry of a call answered
 * with `input_required` is the same call: approved once, not held again (docs/protocol-eras.md).
 */
import { invalidRequestError, ProxyErrorCode, type RawId } from '../jsonrpc/errors.js';
import { Message, type ParsedMessage, rawIdKey } from '../jsonrpc/message.js';
import { type ProtocolEra, protocolEra, requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { approvalDeniedRefusal, blockedRefusal } from '../jsonrpc/refusal.js';
import { traceparentOf } from '../jsonrpc/trace-context.js';
import { evaluateWithDeadline, type GuardRequest, type PolicyVerdict } from '../policy/policy-hook.js';
import type { ToolCatalog } from '../policy/tool-catalog.js';
import type { HeldCall, HeldCalls } from './held-calls.js';
import { type PendingHoldProgress, rawProgressToken } from './hold-progress.js';
import { type InputRounds, looksLikeRetry, type PendingRound } from './input-rounds.js';
import type { CallRecord, RelayPorts } from './ports.js';
import type { RequestOrigin } from './request-origin.js';
import type { JudgedCall } from './result-gate.js';
import { answer, type Forward, NOTHING, type Verdict } from './verdict.js';

export interface GateDeps extends Pick<RelayPorts, 'settings' | 'decider' | 'approvals' | 'observer' | 'originOf'> {
  /** Read once, by the interceptor. */
  enforce: boolean;
  catalog: ToolCatalog;
  held: HeldCalls;
  rounds: InputRounds;
  /** The protocol version the session's `initialize` named (2025 era), if any. */
  sessionProtocolVersion(): string | undefined;
  /** Monitor mode, for a frame read after the upstream took it: when it was sent on (performance.now()). */
  forwardedAt?(): number | undefined;
}

/**
 * Why the policy cannot read this call's name and arguments, or undefined when it can. (What other
 * readers would read differently was refused before routing: lib/jsonrpc/one-reading.ts.)
 */
function ambiguity(message: ParsedMessage): string | undefined {
  const params = message.params;
  if (!Message.isObject(params)) return 'params must be an object';
  if (typeof params.name !== 'string') return 'params.name must be a string';
  if (params.arguments !== undefined && !Message.isObject(params.arguments)) return 'params.arguments must be an object';
  return undefined;
}

/** One call on its way through the gate. */
interface GateCall {
  message: ParsedMessage;
  key: string;
  /** The id on the wire (what the upstream gets and our answers carry); `call.requestId` is the recorded one. */
  rawId: string;
  isRequest: boolean;
  call: CallRecord;
  era: ProtocolEra;
  round: PendingRound;
  /** What the result rules see of the call, when one can judge its answer. */
  judge?: JudgedCall;
}

export class ToolCallGate {
  constructor(private readonly deps: GateDeps) {}

  /** The verdict for one tools/call (in monitor mode: `forward`, the frame having gone already). */
  decide(message: ParsedMessage, frameBytes: number): Verdict {
    const { settings, observer, catalog, enforce } = this.deps;
    const isRequest = message.isRequest;
    const rawId = message.rawId;
    const origin = this.deps.originOf?.(rawId);
    const recordedId = origin?.clientId ?? rawId;
    const problem = ambiguity(message);
    if (problem) {
      observer.warning('ambiguous_frame', problem, { method: 'tools/call', requestId: recordedId, enforced: enforce });
      if (enforce) return isRequest ? answer(invalidRequestError(rawId, problem), ProxyErrorCode.invalidRequest, problem) : NOTHING;
    }
    const { tool, arguments: args } = message.toolCall();
    const annotations = catalog.annotations(tool);
    const version = requestProtocolVersion(message.value) ?? this.deps.sessionProtocolVersion();
    const call = observer.describeCall(recordedId, tool, args, annotations, frameBytes, version, this.deps.forwardedAt?.());
    call.traceparent = traceparentOf(message.value);
    const round = this.roundOf(message, tool, recordedId, origin);
    if (round.number > 1) observer.linkRound(call, round.number, round.firstCallId);
    const request = this.guardRequest(recordedId, tool, args, isRequest && !round.approvalId);
    const traceparent = observer.traceparentFor(call);
    if (traceparent) request.traceparent = traceparent;
    const key = rawIdKey(rawId);
    const verdict = evaluateWithDeadline(this.deps.decider, request, settings.guardTimeoutMs, settings.guardFailureMode);
    const era = protocolEra(message.value);
    const context: GateCall = { message, key, rawId, isRequest, call, era, round, judge: this.resultFacts(request, era, rawId) };
    // Monitor mode forwarded the frame before reading it (the write is a no-op); the policy's decision is only recorded.
    if (!enforce) {
      const forward = this.forward(context); // a fresh object: set, not spread (a spread costs µs per call in Node 20)
      forward.observed = verdict;
      return forward;
    }
    if (!(verdict instanceof Promise)) return this.apply(verdict, context);
    // Hold while a slow policy decides, so a cancellation can end the wait.
    const hold: HeldCall = { rawId, call, abort: new AbortController() };
    if (isRequest) this.deps.held.hold(key, hold);
    const until = verdict.then((v): Verdict => {
      if (isRequest && !this.deps.held.release(key, hold)) return this.abandonApproval(v, hold); // cancelled meanwhile
      return this.apply(v, context);
    });
    return { kind: 'hold', until };
  }

  /**
   * The question for the policy. `mayHold`: a notification is never held (there is nothing to
   * answer), so it must not create an approval; nor is the retry of an approved call (its approval
   * covers it), so nobody is asked again.
   */
  private guardRequest(recordedId: string, tool: string, args: Record<string, unknown>, mayHold: boolean): GuardRequest {
    const { settings, catalog, enforce } = this.deps;
    return {
      agentKey: settings.agentKey,
      environment: settings.environment,
      serverName: settings.serverName,
      tool,
      arguments: args,
      // Absent: this session has not listed the tool (the control plane may know it from the store).
      annotations: catalog.listedAnnotations(tool),
      mode: mayHold && enforce ? 'enforce' : 'monitor',
      sessionId: settings.sessionId,
      approvalTimeoutMs: settings.approvalTimeoutMs,
      redactKeys: settings.redactKeys,
      requestId: recordedId,
      grantWindowMs: settings.grantWindowMs,
    };
  }

  /**
   * Round 1 for a new call. A call that carries `inputResponses` or `requestState` continues the
   * round it matches exactly (input-rounds.ts); one that matches none is judged as a new call.
   * `origin`: set when clients share the interceptor; the retry continues only the round it proved.
   */
  private roundOf(message: ParsedMessage, tool: string, recordedId: string, origin?: RequestOrigin): PendingRound {
    const argumentsText = (): string => message.rawParam('arguments') ?? '';
    const first: PendingRound = { number: 1, firstCallId: recordedId, tool, argumentsText };
    if (!looksLikeRetry(message.params)) return first;
    const state = message.param('requestState');
    const key = { tool, argumentsText: argumentsText(), requestState: typeof state === 'string' ? state : undefined };
    const continued = this.deps.rounds.take(key, origin?.continues);
    if (continued) return { ...first, number: continued.number + 1, firstCallId: continued.firstCallId, approvalId: continued.approvalId };
    this.deps.observer.warning(
      'unmatched_retry',
      'a tools/call with inputResponses or requestState continues no call answered with input_required (same tool, same arguments, same requestState); it is judged as a new call',
      { requestId: recordedId, tool },
    );
    return first;
  }

  private apply(verdict: PolicyVerdict, c: GateCall): Verdict {
    const { observer } = this.deps;
    // An approved call's retry: the human already said yes to this tool with these arguments.
    const approvalId = verdict.decision === 'require_approval' ? c.round.approvalId : undefined;
    // Events are built later, in batches (see Telemetry), so recording first delays no frame.
    observer.guardrailEvaluated(c.call, verdict, true, approvalId);
    switch (verdict.decision) {
      case 'allow':
      case 'warn':
        return this.forward(c);
      case 'block': {
        if (!c.isRequest) return this.dropNotification('notification_blocked', verdict.reason, c);
        const data = { decision: 'block' as const, ruleId: verdict.ruleId, reason: verdict.reason, tool: c.call.namespacedTool };
        const frame = blockedRefusal(this.deps.settings.refusal, c.rawId, data, c.era);
        return this.refuse(c, frame, ProxyErrorCode.blocked, verdict.reason);
      }
      case 'require_approval':
        if (!c.isRequest) return this.dropNotification('notification_needs_approval', verdict.reason, c);
        if (approvalId) return this.forward(c);
        return this.holdForApproval(verdict, c);
    }
  }

  private dropNotification(kind: string, reason: string, c: GateCall): Verdict {
    this.deps.observer.warning(kind, reason, { tool: c.call.namespacedTool });
    return NOTHING;
  }

  private holdForApproval(verdict: PolicyVerdict, c: GateCall): Verdict {
    const { observer, held, settings } = this.deps;
    const approvalId = verdict.approvalId;
    if (!approvalId) return this.approvalMissing(verdict, c);
    const hold: HeldCall = { rawId: c.rawId, call: c.call, approvalId, abort: new AbortController() };
    held.hold(c.key, hold);
    observer.approvalRequested(c.call, {
      approvalId,
      ruleId: verdict.ruleId,
      reason: verdict.reason,
      timeoutMs: settings.approvalTimeoutMs,
    });
    this.deps.approvals.announce(approvalId);
    const traceparent = observer.traceparentFor(c.call);
    const until = this.deps.approvals.awaitApproval(approvalId, settings.approvalTimeoutMs, hold.abort.signal, traceparent).then(
      (outcome): Verdict => {
        // A hold that ended early (cancelled, host gone, upstream gone) was recorded by whoever ended it.
        if (!held.release(c.key, hold)) return NOTHING;
        observer.approvalResolved(approvalId, c.call.namespacedTool, outcome);
        if (outcome === 'approved') return this.forward({ ...c, round: { ...c.round, approvalId } });
        const data = { decision: 'require_approval' as const, approvalId, outcome, ruleId: verdict.ruleId };
        const frame = approvalDeniedRefusal(settings.refusal, c.rawId, data, c.call.namespacedTool, c.era);
        return this.refuse(c, frame, ProxyErrorCode.approvalDenied, `approval ${outcome}`);
      },
      (): Verdict => NOTHING,
    );
    return { kind: 'hold', until, progress: this.progressWhileHeld(c, hold, approvalId) };
  }

  /** No approval anyone could see (the store or the API failed): refused, whatever guardFailureMode says. */
  private approvalMissing(verdict: PolicyVerdict, c: GateCall): Verdict {
    const reason = verdict.failure
      ? `no approval could be created: ${verdict.failure}`
      : 'the control plane asked for approval but created no approval to resolve';
    this.deps.observer.warning('approval_missing', reason, { tool: c.call.namespacedTool });
    const data = {
      decision: 'require_approval' as const,
      approvalId: null,
      outcome: 'unavailable' as const,
      ruleId: verdict.ruleId,
      reason,
    };
    const frame = approvalDeniedRefusal(this.deps.settings.refusal, c.rawId, data, c.call.namespacedTool, c.era);
    return this.refuse(c, frame, ProxyErrorCode.approvalDenied, reason);
  }

  /** Progress notifications while the call waits, when its request asked for them (docs/control-plane.md). */
  private progressWhileHeld(c: GateCall, hold: HeldCall, approvalId: string): PendingHoldProgress | undefined {
    const intervalMs = this.deps.settings.progressIntervalMs;
    const token = intervalMs > 0 ? rawProgressToken(c.message) : undefined;
    return token === undefined ? undefined : { token, approvalId, intervalMs, signal: hold.abort.signal };
  }

  /**
   * An approval made for a call that was cancelled while it was being made: left as host-gone (a late
   * approval makes a grant), or expired without a grant window (docs/control-plane.md, "Grants").
   */
  private abandonApproval(verdict: PolicyVerdict, hold: HeldCall): Verdict {
    if (!verdict.approvalId) return NOTHING;
    // The hold's signal is aborted: awaiting the approval with it ends the wait at once (and tells a
    // remote control plane the host is gone). The approval's end is recorded as it is when the
    // approval was already known at the cancellation (Interceptor.recordHoldEnded).
    void this.deps.approvals.awaitApproval(verdict.approvalId, 0, hold.abort.signal).catch(() => undefined);
    this.deps.observer.approvalResolved(verdict.approvalId, hold.call.namespacedTool, 'cancelled', 'the host cancelled the call');
    return NOTHING;
  }

  /** Our refusal instead of forwarding; the call is recorded as failed once it is written. */
  private refuse(c: GateCall, frame: Buffer, code: number, reason: string): Verdict {
    return answer(frame, code, reason, c.call, c.era === 'modern');
  }

  /** What the result rules see of a call whose answer one of them can judge; undefined for the others. */
  private resultFacts(request: GuardRequest, era: ProtocolEra, rawId: RawId): JudgedCall | undefined {
    if (!this.deps.settings.results.judges(request.tool)) return undefined;
    const { tool, serverName, environment, arguments: args } = request;
    return { tool, serverName, environment, arguments: args, annotations: this.deps.catalog.annotations(tool), era, rawId };
  }

  /** Forward the original bytes; a request then waits for its answer, and the call's start is recorded. */
  private forward(c: GateCall): Forward {
    if (!c.isRequest) return { kind: 'forward', call: c.call };
    const request = { rawId: c.rawId, method: 'tools/call', call: c.call, round: c.round };
    return { kind: 'forward', call: c.call, pending: { key: c.key, request: c.judge ? { ...request, judge: c.judge } : request } };
  }
}
