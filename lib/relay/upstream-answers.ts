/**
 * The upstream side of the relay: each upstream frame, after it was relayed to the host (or, in
 * enforce mode with result rules or hideBlockedTools, before: docs/policy.md#phases-call-and-result),
 * settles the request it answers, finishes the call's record, learns the tool list, and remembers a
 * call answered with `input_required` so its retry is known (docs/protocol-eras.md). Large answers
 * are peeked at, not parsed, unless something needs them whole (docs/performance.md).
 */
import type { OversizeFrame } from '../framing/frame-reader.js';
import { answerTooLargeError, errorResponse, ProxyErrorCode } from '../jsonrpc/errors.js';
import { idFromHead, peekEnvelope, scanTopLevel } from '../jsonrpc/json-scan.js';
import { Message, type ParsedMessage, rawIdKey, readFrame, readHostFrame } from '../jsonrpc/message.js';
import type { ProtocolEra } from '../jsonrpc/protocol-era.js';
import { blockedRefusal } from '../jsonrpc/refusal.js';
import type { BlockedToolsFilter } from '../policy/blocked-tools-filter.js';
import { whenSettled } from '../policy/policy-hook.js';
import { type ToolCatalog, type ToolDefinition, toolsFromListResult } from '../policy/tool-catalog.js';
import { joinBatch } from './batch.js';
import type { InputRounds } from './input-rounds.js';
import type { PendingRequest, PendingRequests } from './pending-requests.js';
import type { ListingFields, RelayPorts } from './ports.js';
import type { JudgedAnswer, ResultGate } from './result-gate.js';

export interface UpstreamAnswersDeps extends Pick<RelayPorts, 'settings' | 'tools' | 'observer' | 'toHost' | 'log' | 'originOf'> {
  catalog: ToolCatalog;
  pending: PendingRequests;
  rounds: InputRounds;
  /** Set when some rule judges results. */
  resultGate: ResultGate | undefined;
  /** Set in enforce mode with hideBlockedTools. */
  listFilter: BlockedToolsFilter | undefined;
}

const ID_MARKER = Buffer.from('"id"');
/** A `\u` escape: a key may spell `id` with one (`"\u0069d"`), and every JSON reader reads that as `"id"`. */
const ESCAPE_MARKER = Buffer.from('\\u');
/** `"id"` in another case, or with a dotless ı or dotted İ (UTF-8 read as latin1), as Go's encoding/json still reads it. */
const ID_VARIANT = /"(?:[iI]|\u00c4[\u00b0\u00b1])[dD]"/;
/** Whether a frame may have an `id` member: the key written plainly, or some `\u` escape that may spell it. */
function mayNameId(frame: Buffer): boolean {
  return frame.indexOf(ID_MARKER) !== -1 || frame.indexOf(ESCAPE_MARKER) !== -1;
}
const INPUT_REQUIRED_MARKER = Buffer.from('"input_required"');
/** Upstream answers at least this large are peeked at, not parsed, unless a tools/list needs them whole. */
const PEEK_BYTES = 64 * 1024;

export class UpstreamAnswers {
  constructor(private readonly deps: UpstreamAnswersDeps) {}

  /** Whether `tools/list` answers are filtered (hideBlockedTools in enforce mode). */
  get filtersLists(): boolean {
    return this.deps.listFilter !== undefined;
  }

  /** One frame from upstream, already relayed to the host: telemetry only. */
  onFrame(frame: Buffer): void {
    if (this.deps.pending.size === 0 || !mayNameId(frame)) return;
    if (frame.length >= PEEK_BYTES && this.settlePeeked(frame)) return;
    const read = readFrame(frame);
    if (read.kind === 'single') this.settle(read.message, frame.length);
    else if (read.kind === 'batch') for (const m of read.messages) this.settle(m, Buffer.byteLength(m.text));
  }

  /**
   * Enforce mode with result rules or hideBlockedTools: one whole upstream frame, before the host
   * gets it. Only an answer to a judged call, or a `tools/list` to filter, is read further than its
   * envelope; every other frame goes on as its original bytes at once.
   */
  onFrameGated(frame: Buffer): void {
    if (this.deps.pending.readFirstCount === 0) return this.relayed(frame);
    // Without "id" it answers nothing, unless it spells the key with an escape or as only another reader reads it ("ID").
    if (!mayNameId(frame) && !ID_VARIANT.test(frame.toString('latin1'))) return this.relayed(frame);
    const envelope = peekEnvelope(frame);
    if (envelope.ambiguousKey !== undefined) {
      const refusal = this.refuseAmbiguous(envelope.rawId, envelope.ambiguousKey, frame.length);
      return refusal && this.deps.toHost(refusal);
    }
    if (envelope.kind === 'array') return this.judgeBatch(frame);
    const key = envelope.rawId === undefined ? undefined : rawIdKey(envelope.rawId);
    const request = key === undefined ? undefined : this.deps.pending.peek(key);
    if (request?.hideBlocked) return this.filterList(frame);
    const gate = this.deps.resultGate;
    if (!gate || !request?.judge || !request.call || key === undefined) return this.relayed(frame);
    // Result rules judge only a call's final answer: an input_required round goes on as it came.
    if (frame.indexOf(INPUT_REQUIRED_MARKER) !== -1 && isInputRound(readResult(frame), request.judge.era)) return this.relayed(frame);
    this.deps.pending.settle(key);
    const call = request.call;
    const judged = gate.judge(frame, call, request.judge);
    if (judged instanceof Promise) this.deps.observer.track(judged); // a secret scan: its answer is still to come
    whenSettled(judged, (answer) => {
      this.deps.toHost(answer.frame);
      this.deps.observer.toolFinished(call, {
        error: answer.refused ?? (envelope.error ? { code: envelope.error.code, message: envelope.error.message } : undefined),
        isError: !answer.refused && envelope.resultIsError,
        resultSize: answer.frame.length,
      });
    });
  }

  /**
   * An upstream frame that names its `id`, `result` or `error` twice or in another case, while a
   * judged call waits: another reader (the host's) could take it for the answer to another request
   * than the one ratri reads, and so get a judged call's answer unjudged. It is not relayed; the
   * request ratri reads it as answering gets a refusal, returned for the host (docs/policy.md,
   * "Phases: call and result"); undefined when it answers no request the host still waits for.
   */
  private refuseAmbiguous(rawId: string | undefined, key: string, frameBytes: number): Buffer | undefined {
    const reason = `the upstream's answer names the key ${JSON.stringify(key)} twice or in another case, so readers could take it for the answer to different requests; it was not relayed`;
    this.deps.observer.warning('ambiguous_frame', reason, { direction: 'upstream', enforced: true, frameBytes });
    const request = rawId === undefined ? undefined : this.deps.pending.settle(rawIdKey(rawId));
    if (!request) return undefined;
    return this.answerInstead(request, reason, () =>
      errorResponse(request.rawId, ProxyErrorCode.upstreamExited, 'Upstream answer could be read two ways', { reason }),
    );
  }

  /**
   * In place of an upstream answer that is not relayed (too large to read, or readable two ways): a
   * judged call's result-phase refusal, any other request's `otherwise`; the call is recorded as
   * failed. Returns the frame for the host, undefined when the host no longer waits for it.
   */
  private answerInstead(request: PendingRequest, reason: string, otherwise: () => Buffer): Buffer | undefined {
    const call = request.call;
    const judged = request.judge !== undefined && call !== undefined;
    const frame = judged
      ? blockedRefusal(this.deps.settings.refusal, request.rawId, {
          decision: 'block',
          ruleId: null,
          reason,
          tool: call.namespacedTool,
          phase: 'result',
        })
      : otherwise();
    const code = judged ? ProxyErrorCode.blocked : ProxyErrorCode.upstreamExited;
    if (call) this.deps.observer.toolFinished(call, { error: { code, message: reason }, resultSize: frame.length });
    return request.cancelled ? undefined : frame;
  }

  /** A frame that goes to the host as it came; then the usual tap. */
  private relayed(frame: Buffer): void {
    this.deps.toHost(frame);
    this.onFrame(frame);
  }

  /** A `tools/list` answer under hideBlockedTools: the host gets it without the tools every call to is blocked. */
  private filterList(frame: Buffer): void {
    const read = readHostFrame(frame);
    if (read.kind !== 'single' || !this.deps.listFilter) return this.relayed(frame);
    const ambiguous = (read.problem ?? read.message.problem) !== undefined;
    this.deps.toHost(this.deps.listFilter.filter(read.message, ambiguous) ?? frame);
    this.settle(read.message, frame.length);
  }

  /** An upstream batch with answers to read first: each is judged or filtered; the batch is rebuilt only if one changed. */
  private judgeBatch(frame: Buffer): void {
    // Read the strict way, as a single judged answer is (ResultGate.judge): a problem anywhere in the
    // batch refuses each judged answer in it.
    const read = readHostFrame(frame);
    if (read.kind !== 'batch') return this.relayed(frame);
    const texts: Buffer[] = [];
    const finished: Array<() => void> = [];
    const judged: Array<void | Promise<void>> = [];
    let changed = false;
    for (const m of read.messages) {
      const ambiguousKey = scanTopLevel(m.text).ambiguousKey;
      if (ambiguousKey !== undefined) {
        const rawId = Message.isObject(m.value) && Object.hasOwn(m.value, 'id') ? m.rawId : undefined;
        const refusal = this.refuseAmbiguous(rawId, ambiguousKey, Buffer.byteLength(m.text));
        if (refusal) texts.push(refusal);
        changed = true;
        continue;
      }
      const text = Buffer.from(m.text);
      const key = rawIdKey(m.rawId);
      const request = Message.isResponse(m.value) ? this.deps.pending.peek(key) : undefined;
      const gate = this.deps.resultGate;
      if (!gate || !request?.judge || !request.call) {
        const filtered = request?.hideBlocked ? this.deps.listFilter?.filter(m, false) : undefined;
        changed ||= filtered !== undefined;
        texts.push(filtered ?? text);
        finished.push(() => this.settle(m, text.length));
        continue;
      }
      this.deps.pending.settle(key);
      const call = request.call;
      const at = texts.push(text) - 1;
      const problem = read.problem ?? m.problem;
      const judging = problem ? gate.refuseUnreadable(problem, call, request.judge) : gate.judgeMessage(text, m, call, request.judge);
      judged.push(
        whenJudged(judging, (answer) => {
          changed ||= answer.changed;
          texts[at] = answer.frame;
          finished.push(() => this.deps.observer.toolFinished(call, { error: answer.refused, resultSize: answer.frame.length }));
        }),
      );
    }
    // The batch waits for its slowest judgement (a secret scan), then goes whole.
    const waiting = judged.some((j) => j instanceof Promise) ? Promise.all(judged) : undefined;
    if (waiting) this.deps.observer.track(waiting);
    whenSettled(waiting, () => {
      if (!changed) this.deps.toHost(frame);
      else if (texts.length > 0) this.deps.toHost(joinBatch(texts));
      for (const f of finished) f();
    });
  }

  /**
   * Settles a large answer from its envelope; false when it must be parsed whole (a batch, a
   * tools/list, a judged answer, a tools/call answer that may be `input_required`).
   */
  private settlePeeked(frame: Buffer): boolean {
    const envelope = peekEnvelope(frame);
    if (envelope.kind !== 'object') return false;
    if (envelope.rawId === undefined) return true; // no id: it answers nothing
    const key = rawIdKey(envelope.rawId);
    const pending = this.deps.pending.peek(key);
    if (pending?.method === 'tools/list' || pending?.judge) return false;
    if (pending?.method === 'tools/call' && frame.indexOf(INPUT_REQUIRED_MARKER) !== -1) return false;
    const request = this.deps.pending.settle(key);
    if (request?.call) {
      this.deps.observer.toolFinished(request.call, {
        error: envelope.error ? { code: envelope.error.code, message: envelope.error.message } : undefined,
        isError: envelope.resultIsError,
        resultSize: frame.length,
      });
    }
    return true;
  }

  /**
   * Enforce mode with result rules: an upstream frame over maxFrameBytes was read in pieces and not
   * kept, so it cannot be relayed: the request it answers (when its id is readable) gets a refusal
   * if a result rule judges it, else -32603 (docs/errors.md).
   */
  onOversizeGated(info: OversizeFrame): void {
    const reason = `upstream answer of ${info.totalBytes} bytes exceeds maxFrameBytes (${this.deps.settings.maxFrameBytes}); with result rules on, such answers are not relayed`;
    this.deps.observer.warning('frame_too_large', reason, { direction: 'upstream', frameBytes: info.totalBytes });
    const id = idFromHead(info.head.toString('utf8'));
    const request = id === undefined ? undefined : this.deps.pending.settle(rawIdKey(id));
    if (!request) return;
    const { maxFrameBytes } = this.deps.settings;
    const frame = this.answerInstead(request, reason, () =>
      answerTooLargeError(request.rawId, { frameBytes: info.totalBytes, maxFrameBytes }),
    );
    if (frame) this.deps.toHost(frame);
  }

  /** An upstream frame over maxFrameBytes was relayed but not parsed: settle its request if its id is readable. */
  onOversize(info: OversizeFrame): void {
    const reason = `upstream frame of ${info.totalBytes} bytes exceeds maxFrameBytes; relayed without inspection`;
    this.deps.observer.warning('frame_too_large', reason, { direction: 'upstream', frameBytes: info.totalBytes });
    const id = idFromHead(info.head.toString('utf8'));
    const request = id === undefined ? undefined : this.deps.pending.settle(rawIdKey(id));
    if (request?.call) this.deps.observer.toolFinished(request.call, { resultSize: info.totalBytes, uninspected: true });
  }

  private settle(message: ParsedMessage, frameBytes: number): void {
    const value = message.value;
    if (!Message.isResponse(value)) return;
    const request = this.deps.pending.settle(rawIdKey(message.rawId));
    if (!request) return;
    if (request.call) {
      const result = value.result as { isError?: unknown; resultType?: unknown; requestState?: unknown } | undefined;
      // Result rules judge only a call's final answer, never an input_required round.
      if (request.judge && !isInputRound(result, request.judge.era)) this.deps.resultGate?.observe(message, request.call, request.judge);
      const inputRequired = result?.resultType === 'input_required' && this.openRound(request, result);
      this.deps.observer.toolFinished(request.call, {
        error: value.error ? { code: value.error.code, message: value.error.message } : undefined,
        isError: result?.isError === true,
        inputRequired,
        resultSize: frameBytes,
      });
    } else if (request.method === 'tools/list') {
      const tools = toolsFromListResult(value.result);
      if (tools) this.register(tools, this.listingOf(request));
    }
  }

  /** A call answered with `input_required`: its retry may come (input-rounds.ts). Returns true. */
  private openRound(request: PendingRequest, result: { requestState?: unknown }): boolean {
    const round = request.round;
    if (!round) return true;
    const requestState = typeof result.requestState === 'string' ? result.requestState : undefined;
    this.deps.rounds.add(
      { tool: round.tool, argumentsText: round.argumentsText(), requestState },
      { number: round.number, firstCallId: round.firstCallId, approvalId: round.approvalId },
      request.rawId,
    );
    return true;
  }

  /** What the tools.registered event says of the tools/list that listed the tools (docs/events.md#mcptoolsregistered). */
  private listingOf(request: PendingRequest): ListingFields {
    const listing: ListingFields = { protocolVersion: request.protocolVersion };
    if (!request.listing) return listing;
    listing.requestId = this.deps.originOf?.(request.rawId)?.clientId ?? request.rawId;
    listing.durationMs = performance.now() - request.listing.startedAt;
    listing.traceparent = request.listing.traceparent;
    return listing;
  }

  /** A tools/list answer: its annotations are kept for the rules, and the registry registers the tools. */
  private register(tools: ToolDefinition[], listing: ListingFields): void {
    this.deps.catalog.register(tools);
    const { tools: registry, observer } = this.deps;
    let answer;
    try {
      answer = registry.registerTools(tools);
    } catch (err) {
      return this.registrationFailed(tools, err, listing);
    }
    if (!(answer instanceof Promise)) return observer.toolsRegistered(tools, answer.changed, listing);
    answer.then(
      (a) => observer.toolsRegistered(tools, a.changed, listing),
      (err: unknown) => this.registrationFailed(tools, err, listing),
    );
  }

  private registrationFailed(tools: ToolDefinition[], err: unknown, listing: ListingFields): void {
    const reason = `could not register ${tools.length} tool(s) with the control plane: ${(err as Error).message}`;
    this.deps.log(reason);
    this.deps.observer.warning('tool_registration_failed', reason);
    this.deps.observer.toolsRegistered(tools, [], listing);
  }
}

/** Runs `then` on a judgement now, or once it settles; returns the promise to wait for, if any. */
function whenJudged(answer: JudgedAnswer | Promise<JudgedAnswer>, then: (a: JudgedAnswer) => void): void | Promise<void> {
  return answer instanceof Promise ? answer.then(then) : then(answer);
}

/** The `result` of one upstream answer, when the frame is a single response. */
function readResult(frame: Buffer): unknown {
  const read = readFrame(frame);
  return read.kind === 'single' && Message.isResponse(read.message.value) ? read.message.value.result : undefined;
}

/**
 * Whether a tools/call's answer is an `input_required` round that result rules leave to the final
 * answer: only for a 2026-07-28-era request (a 2025-era host ignores resultType and would show the
 * content), and only with no content to show. An upstream cannot slip a result past the rules by
 * calling it a round (docs/protocol-eras.md).
 */
function isInputRound(result: unknown, era: ProtocolEra): boolean {
  if (era !== 'modern' || !Message.isObject(result) || result.resultType !== 'input_required') return false;
  return result.content === undefined && result.structuredContent === undefined;
}
