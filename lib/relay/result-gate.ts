/**
 * The result phase at the wire (docs/policy.md#phases-call-and-result): the upstream's answer to a
 * `tools/call` whose tool a result rule can match is judged before the host gets it (enforce) or
 * after (monitor: recorded, never changed). An answer that is allowed or warned about goes on as its
 * original bytes; a redacted or refused one is a frame of ratri's own, re-serialized, under the
 * request's id as the host wrote it. An error answer is judged as well (its message and data are
 * text the host may show the model); a redacted one keeps its `error` member.
 */
import { ProxyErrorCode, type RawId } from '../jsonrpc/errors.js';
import { Message, type ParsedMessage, readHostFrame } from '../jsonrpc/message.js';
import type { ProtocolEra } from '../jsonrpc/protocol-era.js';
import { blockedRefusal } from '../jsonrpc/refusal.js';
import type { ResultJudgement, ResultVerdict } from '../policy/result-rules.js';
import type { ToolCallFacts } from '../policy/rules.js';
import type { CallObserver, CallRecord, RelaySettings } from './ports.js';

/** What the result rules see of a call, and the era its refusal is written in (docs/errors.md). */
export interface JudgedCall extends ToolCallFacts {
  era: ProtocolEra;
  /** The request's id on the wire (what ratri's own answer carries; the recorded id may differ, request-origin.ts). */
  rawId: RawId;
}

export interface ResultGateDeps {
  settings: RelaySettings;
  observer: CallObserver;
}

/** What the host gets for one judged answer. */
export interface JudgedAnswer {
  /** The original bytes (`changed` false) or ratri's own frame. */
  frame: Buffer;
  changed: boolean;
  /** For a refusal: the error the call is recorded with. */
  refused?: { code: number; message: string };
}

export class ResultGate {
  constructor(private readonly deps: ResultGateDeps) {}

  /**
   * Enforce mode: the frame the host gets for this answer. The answer is read the strict way (as a
   * host frame is): one that another reader could read differently is refused, not guessed at.
   */
  judge(frame: Buffer, call: CallRecord, facts: JudgedCall): JudgedAnswer | Promise<JudgedAnswer> {
    const read = readHostFrame(frame);
    const message = read.kind === 'single' ? read.message : undefined;
    const problem = read.kind === 'single' ? (read.problem ?? read.message.problem) : 'the answer is not one JSON-RPC message';
    if (message && !problem) return this.judgeMessage(frame, message, call, facts);
    return this.refuseUnreadable(problem ?? 'the answer is not one JSON-RPC message', call, facts);
  }

  /** An answer (or a batch holding it) that another reader could read differently: refused, not guessed at. */
  refuseUnreadable(problem: string, call: CallRecord, facts: JudgedCall): JudgedAnswer {
    const verdict: ResultVerdict = { decision: 'block', ruleId: null, reason: `the answer can be read more than one way: ${problem}` };
    this.deps.observer.resultEvaluated(call, verdict, 0, true);
    return this.refuse(verdict, call, facts);
  }

  /** One answer, already read: its bytes when allowed, else ratri's frame (later, when a secret scan is under way). */
  judgeMessage(frame: Buffer, message: ParsedMessage, call: CallRecord, facts: JudgedCall): JudgedAnswer | Promise<JudgedAnswer> {
    const value = message.value;
    if (!Message.isResponse(value)) return { frame, changed: false };
    const member = 'result' in value ? 'result' : 'error';
    const started = performance.now();
    const judged = this.deps.settings.results.judge(facts, value[member]);
    const apply = (j: ResultJudgement): JudgedAnswer => {
      this.deps.observer.resultEvaluated(call, j.verdict, performance.now() - started, true, j.redacted?.redactions);
      if (j.verdict.decision === 'block') return this.refuse(j.verdict, call, facts);
      if (!j.redacted) return { frame, changed: false };
      const redacted = Buffer.from(`{"jsonrpc":"2.0","id":${facts.rawId},"${member}":${JSON.stringify(j.redacted.result)}}`);
      return { frame: redacted, changed: true };
    };
    return judged instanceof Promise ? judged.then(apply, (err: unknown) => this.scanFailed(err, call, facts)) : apply(judged);
  }

  /** Monitor mode, after the host got the answer: what enforce mode would have done, recorded. */
  observe(message: ParsedMessage, call: CallRecord, facts: JudgedCall): void {
    const value = message.value;
    if (!Message.isResponse(value)) return;
    const started = performance.now();
    const record = (j: ResultJudgement): void =>
      this.deps.observer.resultEvaluated(call, j.verdict, performance.now() - started, false, j.redacted?.redactions);
    const judged = this.deps.settings.results.judge(facts, 'result' in value ? value.result : value.error);
    if (judged instanceof Promise) this.deps.observer.track(judged.then(record, () => undefined));
    else record(judged);
  }

  /** The secret scan failed: the answer is refused, not relayed unread. */
  private scanFailed(err: unknown, call: CallRecord, facts: JudgedCall): JudgedAnswer {
    const verdict: ResultVerdict = {
      decision: 'block',
      ruleId: null,
      reason: `the answer could not be scanned for secrets: ${(err as Error).message}`,
    };
    this.deps.observer.resultEvaluated(call, verdict, 0, true);
    return this.refuse(verdict, call, facts);
  }

  /** The refusal, under the request's own id as the host wrote it. */
  private refuse(verdict: ResultVerdict, call: CallRecord, facts: JudgedCall): JudgedAnswer {
    const data = {
      decision: 'block' as const,
      ruleId: verdict.ruleId,
      reason: verdict.reason,
      tool: call.namespacedTool,
      phase: 'result' as const,
    };
    const frame = blockedRefusal(this.deps.settings.refusal, facts.rawId, data, facts.era);
    return { frame, changed: true, refused: { code: ProxyErrorCode.blocked, message: verdict.reason } };
  }
}
