/**
 * The policy gate for one `tools/call`: in monitor mode it forwards at once and records what the
 * policy would have decided; in enforce mode it forwards, refuses (-32001), or holds the call for
 * approval (-32002 when rejected or timed out). Holds never block other traffic. A 2026-07-28-era
 * call is refused in its own era's way (a tool result with `isError`, docs/errors.md), and the
 * retry of a call answered with `input_required` is the same call: approved once, not held again
 * (docs/protocol-eras.md).
 */
import type { ProxyConfig } from '../config/types.js';
import { ApprovalWebhook } from '../control/approval-webhook.js';
import type { ControlPlane } from '../control/control-plane.js';
import { invalidRequestError, ProxyErrorCode, type RawId } from '../jsonrpc/errors.js';
import { Message, type ParsedMessage, rawIdKey } from '../jsonrpc/message.js';
import { type ProtocolEra, protocolEra, requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { approvalDeniedRefusal, blockedRefusal } from '../jsonrpc/refusal.js';
import { evaluateWithDeadline, type GuardRequest, type PolicyVerdict, whenSettled } from '../policy/policy-hook.js';
import type { ResultRules } from '../policy/result-rules.js';
import type { ToolCatalog } from '../policy/tool-catalog.js';
import { EventType } from '../telemetry/event.js';
import type { Telemetry, ToolCallRecord } from '../telemetry/telemetry.js';
import { traceparentOf } from '../telemetry/trace-context.js';
import type { HeldCall, HeldCalls } from './held-calls.js';
import { rawProgressToken, startHoldProgress } from './hold-progress.js';
import { type InputRounds, looksLikeRetry, type PendingRound } from './input-rounds.js';
import type { PendingRequests } from './pending-requests.js';
import type { OriginOf, RequestOrigin } from './request-origin.js';
import type { JudgedCall } from './result-gate.js';

/** Where a message goes once decided: its original bytes upstream, or an answer of ours to the host. */
export interface Outlet {
  forward(): void;
  answer(frame: Buffer): void;
}

export interface GateDeps {
  config: ProxyConfig;
  controlPlane: ControlPlane;
  catalog: ToolCatalog;
  telemetry: Telemetry;
  pending: PendingRequests;
  held: HeldCalls;
  rounds: InputRounds;
  sessionId: string;
  /** Writes a frame of the proxy's own to the host (progress while a call is held). */
  toHost(frame: Buffer): void;
  results: ResultRules;
  /** The protocol version the session's `initialize` named (2025 era), if any. */
  sessionProtocolVersion(): string | undefined;
  /** Who sent a request whose id a front rewrote (request-origin.ts). */
  originOf?: OriginOf;
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
  call: ToolCallRecord;
  out: Outlet;
  era: ProtocolEra;
  round: PendingRound;
  /** What the result rules see of the call, when one can judge its answer. */
  judge?: JudgedCall;
}

export class ToolCallGate {
  private readonly webhook: ApprovalWebhook | undefined;

  constructor(private readonly deps: GateDeps) {
    const webhook = deps.config.approvals.webhook;
    if (webhook)
      this.webhook = new ApprovalWebhook(webhook, (reason, data) => deps.telemetry.warning('approval_webhook_failed', reason, data));
  }

  handle(message: ParsedMessage, frameBytes: number, out: Outlet): void {
    const { config, telemetry, catalog } = this.deps;
    const enforce = config.mode === 'enforce';
    const isRequest = message.isRequest;
    const rawId = message.rawId;
    const origin = this.deps.originOf?.(rawId);
    const recordedId = origin?.clientId ?? rawId;
    const problem = ambiguity(message);
    if (problem) {
      telemetry.warning('ambiguous_frame', problem, { method: 'tools/call', requestId: recordedId, enforced: enforce });
      if (enforce) {
        if (isRequest) out.answer(invalidRequestError(rawId, problem));
        return;
      }
    }
    const { tool, arguments: args } = message.toolCall();
    const annotations = catalog.annotations(tool);
    const version = requestProtocolVersion(message.value) ?? this.deps.sessionProtocolVersion();
    const call = telemetry.describeCall(recordedId, tool, args, annotations, frameBytes, version);
    call.traceparent = traceparentOf(message.value);
    const round = this.roundOf(message, tool, message.params, recordedId, origin);
    if (round.number > 1) telemetry.linkRound(call, round.number, round.firstCallId);
    const request: GuardRequest = {
      agentKey: config.agentKey,
      environment: config.environment,
      serverName: config.serverName,
      tool,
      arguments: args,
      // Absent: this session has not listed the tool (the control plane may know it from the store).
      annotations: catalog.listedAnnotations(tool),
      // A notification is never held (there is nothing to answer), so it must not create an approval;
      // nor is the retry of an approved call (its approval covers it), so nobody is asked again.
      mode: isRequest && !round.approvalId ? config.mode : 'monitor',
      sessionId: this.deps.sessionId,
      approvalTimeoutMs: config.approvalTimeoutMs,
      redactKeys: config.redactKeys,
      requestId: recordedId,
      grantWindowMs: config.approvals.grantWindowMs,
    };
    const key = rawIdKey(rawId);
    if (enforce && isRequest && this.deps.held.has(key)) return this.refuseReusedId(rawId, tool, out);
    const verdict = evaluateWithDeadline(this.deps.controlPlane, request, config.guardTimeoutMs, config.guardFailureMode);
    const era = protocolEra(message.value);
    const judge = this.resultFacts(request, era, rawId);
    const context: GateCall = { message, key, rawId, isRequest, call, out, era, round, judge };
    if (!enforce) {
      this.send(context); // forwarding is a no-op here: monitor mode forwarded the frame before reading it
      whenSettled(verdict, (v) => telemetry.guardrailEvaluated(call, v, false));
      return;
    }
    if (!(verdict instanceof Promise)) return this.apply(verdict, context);
    // Hold while a slow policy decides, so a cancellation can end the wait.
    const hold: HeldCall = { rawId, call, abort: new AbortController() };
    if (isRequest) this.deps.held.hold(key, hold);
    void verdict.then((v) => {
      if (isRequest && !this.deps.held.release(key, hold)) return this.abandonApproval(v, hold); // cancelled meanwhile
      this.apply(v, context);
    });
  }

  /**
   * Round 1 for a new call. A call that carries `inputResponses` or `requestState` continues the
   * round it matches exactly (input-rounds.ts); one that matches none is judged as a new call.
   */
  private roundOf(message: ParsedMessage, tool: string, params: unknown, recordedId: string, origin?: RequestOrigin): PendingRound {
    const argumentsText = (): string => message.rawParam('arguments') ?? '';
    const first: PendingRound = { number: 1, firstCallId: recordedId, tool, argumentsText };
    if (!looksLikeRetry(params)) return first;
    const state = (params as { requestState?: unknown }).requestState;
    const continued = this.deps.rounds.take(
      {
        tool,
        argumentsText: argumentsText(),
        requestState: typeof state === 'string' ? state : undefined,
      },
      origin?.continues,
    );
    if (continued) return { ...first, number: continued.number + 1, firstCallId: continued.firstCallId, approvalId: continued.approvalId };
    this.deps.telemetry.warning(
      'unmatched_retry',
      'a tools/call with inputResponses or requestState continues no call answered with input_required (same tool, same arguments, same requestState); it is judged as a new call',
      { requestId: recordedId, tool },
    );
    return first;
  }

  private apply(verdict: PolicyVerdict, c: GateCall): void {
    const { telemetry } = this.deps;
    // An approved call's retry: the human already said yes to this tool with these arguments.
    const approvalId = verdict.decision === 'require_approval' ? c.round.approvalId : undefined;
    // Events are built at the end of the turn (see Telemetry), so recording first delays no frame.
    telemetry.guardrailEvaluated(c.call, verdict, true, approvalId);
    switch (verdict.decision) {
      case 'allow':
      case 'warn':
        return this.send(c);
      case 'block': {
        if (!c.isRequest) return telemetry.warning('notification_blocked', verdict.reason, { tool: c.call.namespacedTool });
        const data = { decision: 'block' as const, ruleId: verdict.ruleId, reason: verdict.reason, tool: c.call.namespacedTool };
        const frame = blockedRefusal(this.deps.config.refusal, c.rawId, data, c.era);
        return this.refuse(c, frame, ProxyErrorCode.blocked, verdict.reason);
      }
      case 'require_approval':
        if (!c.isRequest) return telemetry.warning('notification_needs_approval', verdict.reason, { tool: c.call.namespacedTool });
        if (approvalId) return this.send(c);
        this.holdForApproval(verdict, c);
    }
  }

  private holdForApproval(verdict: PolicyVerdict, c: GateCall): void {
    const { telemetry, held, config } = this.deps;
    const approvalId = verdict.approvalId;
    if (!approvalId) {
      // No approval anyone could see (the store or the API failed): refused, whatever guardFailureMode says.
      const reason = verdict.failure
        ? `no approval could be created: ${verdict.failure}`
        : 'the control plane asked for approval but created no approval to resolve';
      telemetry.warning('approval_missing', reason, { tool: c.call.namespacedTool });
      const frame = approvalDeniedRefusal(
        config.refusal,
        c.rawId,
        { decision: 'require_approval', approvalId: null, outcome: 'unavailable', ruleId: verdict.ruleId, reason },
        c.call.namespacedTool,
        c.era,
      );
      return this.refuse(c, frame, ProxyErrorCode.approvalDenied, reason);
    }
    const hold: HeldCall = { rawId: c.rawId, call: c.call, approvalId, abort: new AbortController() };
    held.hold(c.key, hold);
    telemetry.approvalRequested(c.call, {
      approvalId,
      ruleId: verdict.ruleId,
      reason: verdict.reason,
      timeoutMs: config.approvalTimeoutMs,
    });
    this.announce(approvalId);
    const stopProgress = this.progressWhileHeld(c, hold, approvalId);
    void this.deps.controlPlane.awaitApproval(approvalId, config.approvalTimeoutMs, hold.abort.signal).then(
      (outcome) => {
        stopProgress();
        // A hold that ended early (cancelled, host gone, upstream gone) was recorded by whoever ended it.
        if (!held.release(c.key, hold)) return;
        telemetry.emit(EventType.approvalResolved, { approvalId, tool: c.call.namespacedTool, outcome });
        if (outcome === 'approved') return this.send({ ...c, round: { ...c.round, approvalId } });
        const frame = approvalDeniedRefusal(
          config.refusal,
          c.rawId,
          { decision: 'require_approval', approvalId, outcome, ruleId: verdict.ruleId },
          c.call.namespacedTool,
          c.era,
        );
        this.refuse(c, frame, ProxyErrorCode.approvalDenied, `approval ${outcome}`);
      },
      () => undefined,
    );
  }

  /** Posts the new pending approval (as stored: redacted) to the webhook, after this turn, so no frame waits for it. */
  private announce(approvalId: string): void {
    const webhook = this.webhook;
    if (!webhook) return;
    setImmediate(() => {
      this.deps.controlPlane.getApproval(approvalId).then(
        (approval) => approval && webhook.post(approval),
        (err: unknown) =>
          this.deps.telemetry.warning(
            'approval_webhook_failed',
            `approval ${approvalId} could not be read to post it: ${(err as Error).message}`,
            { approvalId },
          ),
      );
    });
  }

  /** Progress notifications while the call waits, when its request asked for them (docs/control-plane.md). */
  private progressWhileHeld(c: GateCall, hold: HeldCall, approvalId: string): () => void {
    const intervalMs = this.deps.config.approvals.progressIntervalMs;
    const token = intervalMs > 0 ? rawProgressToken(c.message) : undefined;
    if (token === undefined) return () => undefined;
    return startHoldProgress({ token, approvalId, intervalMs, toHost: this.deps.toHost, signal: hold.abort.signal });
  }

  /**
   * An approval made for a call that was cancelled while it was being made: left as host-gone (a late
   * approval makes a grant), or expired without a grant window (docs/control-plane.md, "Grants").
   */
  private abandonApproval(verdict: PolicyVerdict, hold: HeldCall): void {
    // The hold's signal is aborted: awaiting the approval with it ends the wait at once.
    if (verdict.approvalId) void this.deps.controlPlane.awaitApproval(verdict.approvalId, 0, hold.abort.signal).catch(() => undefined);
  }

  /** A call with the id of one still held: the first keeps its place, this one is refused (docs/errors.md). */
  private refuseReusedId(rawId: string, tool: string, out: Outlet): void {
    const reason = `request id ${rawId} is already used by a call held for approval; send this call with another id`;
    this.deps.telemetry.warning('request_id_reused', reason, { requestId: rawId, tool });
    out.answer(invalidRequestError(rawId, reason));
  }

  /**
   * Answers the host with our refusal instead of forwarding, and records the call as failed: with
   * the error code of a 2025-era refusal, or as `isError` with the refusal's code for a modern one.
   */
  private refuse(c: GateCall, frame: Buffer, code: number, message: string): void {
    c.out.answer(frame);
    const outcome = c.era === 'modern' ? { isError: true, refusal: { code, message } } : { error: { code, message } };
    this.deps.telemetry.toolFinished(c.call, { ...outcome, resultSize: frame.length });
  }

  /** What the result rules see of a call whose answer one of them can judge; undefined for the others. */
  private resultFacts(request: GuardRequest, era: ProtocolEra, rawId: RawId): JudgedCall | undefined {
    if (!this.deps.results.judges(request.tool)) return undefined;
    const { tool, serverName, environment, arguments: args } = request;
    return { tool, serverName, environment, arguments: args, annotations: this.deps.catalog.annotations(tool), era, rawId };
  }

  /** Forwards the original bytes, then waits for the answer and records the start. */
  private send(c: GateCall): void {
    c.out.forward();
    if (c.isRequest) {
      const request = { rawId: c.rawId, method: 'tools/call', call: c.call, round: c.round };
      this.deps.pending.add(c.key, c.judge ? { ...request, judge: c.judge } : request);
    }
    this.deps.telemetry.toolStarted(c.call);
  }
}
