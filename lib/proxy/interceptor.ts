/**
 * The interceptor: routes each host frame either straight through (its original bytes) or, for the
 * methods in the interception table, through the policy gate; and taps upstream frames (after they
 * were relayed to the host) to finish telemetry, learn the tool list, and remember calls answered
 * with `input_required` so their retries are known (docs/protocol-eras.md).
 */
import type { ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import type { OversizeFrame } from '../framing/frame-reader.js';
import { answerTooLargeError, invalidRequestError, NULL_ID, ProxyErrorCode, parseError, upstreamExitedError } from '../jsonrpc/errors.js';
import { idFromHead, peekEnvelope } from '../jsonrpc/json-scan.js';
import { Message, type ParsedMessage, rawIdKey, readFrame, readHostFrame } from '../jsonrpc/message.js';
import { expectsAnswer, refusalId } from '../jsonrpc/one-reading.js';
import { requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { blockedRefusal } from '../jsonrpc/refusal.js';
import { whenSettled } from '../policy/policy-hook.js';
import { ResultRules } from '../policy/result-rules.js';
import { ToolCatalog, type ToolDefinition, toolsFromListResult } from '../policy/tool-catalog.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { EventType } from '../telemetry/event.js';
import { jsonErrorReason } from '../telemetry/json-error-reason.js';
import type { ListingFields, Telemetry } from '../telemetry/telemetry.js';
import { traceparentOf } from '../telemetry/trace-context.js';
import { BlockedToolsFilter } from './blocked-tools-filter.js';
import { type HeldCall, HeldCalls } from './held-calls.js';
import { InputRounds } from './input-rounds.js';
import { type PendingRequest, PendingRequests } from './pending-requests.js';
import type { OriginOf } from './request-origin.js';
import { type JudgedAnswer, ResultGate } from './result-gate.js';
import { type Outlet, ToolCallGate } from './tool-call-gate.js';

export interface InterceptorDeps {
  config: ProxyConfig;
  controlPlane: ControlPlane;
  telemetry: Telemetry;
  sessionId: string;
  /** Writes a frame upstream (`terminated` false: no newline, for bytes left at end of stream). */
  toUpstream(frame: Buffer, terminated: boolean): void;
  /** Writes a frame of the proxy's own to the host. */
  toHost(frame: Buffer): void;
  /** A line for the proxy's stderr. */
  log(message: string): void;
  /** Set by a front that rewrites request ids before they get here (request-origin.ts). */
  originOf?: OriginOf;
}

type MessageHandler = (message: ParsedMessage, frameBytes: number, out: Outlet) => void;

const BATCH_OPEN = Buffer.from('[');
const BATCH_CLOSE = Buffer.from(']');
const BATCH_COMMA = Buffer.from(',');
const ID_MARKER = Buffer.from('"id"');
const INPUT_REQUIRED_MARKER = Buffer.from('"input_required"');
/** Upstream answers at least this large are peeked at, not parsed, unless a tools/list needs them whole. */
const PEEK_BYTES = 64 * 1024;
/** The outlet of a frame already forwarded (monitor mode): nothing more to send. */
const IGNORED: Outlet = { forward: () => undefined, answer: () => undefined };

export class Interceptor {
  readonly catalog = new ToolCatalog();
  readonly pending = new PendingRequests();
  readonly held = new HeldCalls();
  readonly rounds = new InputRounds();
  private readonly gate: ToolCallGate;
  private readonly enforce: boolean;
  /** Set when some rule judges results (docs/policy.md#phases-call-and-result). */
  private readonly resultGate: ResultGate | undefined;
  /** Set in enforce mode with hideBlockedTools (docs/policy.md#hiding-blocked-tools). */
  private readonly listFilter: BlockedToolsFilter | undefined;
  /** The protocol version the host's `initialize` asked for (2025 era; a 2026-07-28 request names its own). */
  private initializeVersion: string | undefined;

  /** The interception table: every method not listed here passes through untouched. */
  private readonly table: Record<string, MessageHandler> = {
    'tools/call': (message, frameBytes, out) => this.gate.handle(message, frameBytes, out),
    'tools/list': (message, _frameBytes, out) => this.passThrough(message, out, this.listFilter !== undefined),
  };

  constructor(private readonly deps: InterceptorDeps) {
    this.enforce = deps.config.mode === 'enforce';
    const { guardrails, serverName, environment } = deps.config;
    const results = new ResultRules(guardrails, serverName, environment, secretFinder(deps.config.secrets));
    this.resultGate = results.any ? new ResultGate({ ...deps, results }) : undefined;
    this.listFilter = this.enforce && deps.config.hideBlockedTools ? new BlockedToolsFilter(deps.config) : undefined;
    this.gate = new ToolCallGate({
      ...deps,
      catalog: this.catalog,
      pending: this.pending,
      held: this.held,
      rounds: this.rounds,
      results,
      sessionProtocolVersion: () => this.initializeVersion,
    });
  }

  /**
   * Enforce mode with result rules or hideBlockedTools: upstream frames reach the host through
   * onUpstreamFrameGated, frame by frame, instead of the byte relay (used whenever this is false).
   */
  get gatesAnswers(): boolean {
    return this.enforce && (this.resultGate !== undefined || this.listFilter !== undefined);
  }

  /**
   * One frame from the host. Monitor mode forwards it first and reads it afterwards (nothing it
   * reads can change what upstream gets); enforce mode reads it first and forwards what the policy allows.
   */
  onHostFrame(frame: Buffer, terminated: boolean): void {
    if (!this.enforce) {
      this.deps.toUpstream(frame, terminated);
      return this.observe(frame);
    }
    const read = readHostFrame(frame);
    const forwardWhole = (): void => this.deps.toUpstream(frame, terminated);
    switch (read.kind) {
      case 'blank':
        return forwardWhole();
      case 'invalid-json':
        this.deps.telemetry.warning('invalid_json', jsonErrorReason(read.reason), { enforced: true, frameBytes: frame.length });
        return this.deps.toHost(parseError(read.reason));
      case 'single': {
        const problem = read.problem ?? read.message.problem;
        if (problem) return this.refuseFrame([read.message], false, problem, read.problemKey);
        return this.route(read.message, frame.length, { forward: forwardWhole, answer: (f) => this.deps.toHost(f) });
      }
      case 'batch':
        if (read.problem) return this.refuseFrame(read.messages, true, read.problem);
        return this.routeBatch(read.messages, frame, terminated);
    }
  }

  /** Monitor mode, after forwarding: track requests, record what the policy would have done. */
  private observe(frame: Buffer): void {
    const read = readHostFrame(frame);
    if (read.kind === 'invalid-json') {
      this.deps.telemetry.warning('invalid_json', jsonErrorReason(read.reason), { enforced: false, frameBytes: frame.length });
      return;
    }
    if (read.kind === 'blank') return;
    const messages = read.kind === 'single' ? [read.message] : read.messages;
    const problem = read.problem ?? messages.find((m) => m.problem)?.problem;
    if (problem) this.deps.telemetry.warning('ambiguous_frame', problem, { enforced: false, frameBytes: frame.length });
    // Too deep to read safely: recursive readers (redaction, inference) must never see it.
    if (read.problem?.startsWith('nested deeper')) return;
    if (read.kind === 'single') this.route(read.message, frame.length, IGNORED);
    else for (const m of messages) this.route(m, Buffer.byteLength(m.text), IGNORED);
  }

  /**
   * Enforce mode: a frame some reader could read differently from the policy is not forwarded.
   * Each message in it that expects an answer gets -32600, with a null id when its id is itself
   * what is ambiguous; a batch is answered with an array.
   */
  private refuseFrame(messages: ParsedMessage[], batch: boolean, problem: string, problemKey?: string): void {
    this.deps.telemetry.warning('ambiguous_frame', problem, { enforced: true, forwarded: false });
    const answers = messages.filter((m) => expectsAnswer(m.value)).map((m) => invalidRequestError(refusalId(m, problemKey), problem));
    if (answers.length === 0) return;
    this.deps.toHost(batch ? joinBatch(answers) : (answers[0] as Buffer));
  }

  /** A host frame over maxFrameBytes: its bytes are gone, so answer it if its id is readable. */
  onHostOversize(info: OversizeFrame): void {
    const limit = this.deps.config.maxFrameBytes;
    const reason = `frame of ${info.totalBytes} bytes exceeds maxFrameBytes (${limit}); it was not forwarded`;
    const id = idFromHead(info.head.toString('utf8'));
    this.deps.log(`refused a host frame: ${reason}${id ? ` (request id ${id})` : ''}`);
    this.deps.telemetry.warning('frame_too_large', reason, { direction: 'host', frameBytes: info.totalBytes });
    if (id !== undefined) this.deps.toHost(invalidRequestError(id, reason));
  }

  /** One frame from upstream, already relayed to the host: telemetry only. */
  onUpstreamFrame(frame: Buffer): void {
    if (this.pending.size === 0 || frame.indexOf(ID_MARKER) === -1) return;
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
  onUpstreamFrameGated(frame: Buffer): void {
    if (this.pending.readFirstCount === 0 || frame.indexOf(ID_MARKER) === -1) return this.relayed(frame);
    const envelope = peekEnvelope(frame);
    if (envelope.kind === 'array') return this.judgeBatch(frame);
    const key = envelope.rawId === undefined ? undefined : rawIdKey(envelope.rawId);
    const request = key === undefined ? undefined : this.pending.peek(key);
    if (request?.hideBlocked) return this.filterList(frame);
    const gate = this.resultGate;
    if (!gate || !request?.judge || !request.call || key === undefined) return this.relayed(frame);
    // Result rules judge only a call's final answer: an input_required round goes on as it came.
    if (frame.indexOf(INPUT_REQUIRED_MARKER) !== -1 && isInputRequired(frame)) return this.relayed(frame);
    this.pending.settle(key);
    const call = request.call;
    const judged = gate.judge(frame, call, request.judge);
    if (judged instanceof Promise) this.deps.telemetry.track(judged); // a secret scan: its answer is still to come
    whenSettled(judged, (answer) => {
      this.deps.toHost(answer.frame);
      this.deps.telemetry.toolFinished(call, {
        error: answer.refused ?? (envelope.error ? { code: envelope.error.code, message: envelope.error.message } : undefined),
        isError: !answer.refused && envelope.resultIsError,
        resultSize: answer.frame.length,
      });
    });
  }

  /** A frame that goes to the host as it came; then the usual tap. */
  private relayed(frame: Buffer): void {
    this.deps.toHost(frame);
    this.onUpstreamFrame(frame);
  }

  /** A `tools/list` answer under hideBlockedTools: the host gets it without the tools every call to is blocked. */
  private filterList(frame: Buffer): void {
    const read = readHostFrame(frame);
    if (read.kind !== 'single' || !this.listFilter) return this.relayed(frame);
    const ambiguous = (read.problem ?? read.message.problem) !== undefined;
    this.deps.toHost(this.listFilter.filter(read.message, ambiguous) ?? frame);
    this.settle(read.message, frame.length);
  }

  /** An upstream batch with answers to read first: each is judged or filtered; the batch is rebuilt only if one changed. */
  private judgeBatch(frame: Buffer): void {
    const read = readFrame(frame);
    if (read.kind !== 'batch') return this.relayed(frame);
    const texts: Buffer[] = [];
    const finished: Array<() => void> = [];
    const judged: Array<void | Promise<void>> = [];
    let changed = false;
    for (const m of read.messages) {
      const text = Buffer.from(m.text);
      const key = rawIdKey(m.rawId);
      const request = Message.isResponse(m.value) ? this.pending.peek(key) : undefined;
      const gate = this.resultGate;
      if (!gate || !request?.judge || !request.call) {
        const filtered = request?.hideBlocked ? this.listFilter?.filter(m, false) : undefined;
        changed ||= filtered !== undefined;
        texts.push(filtered ?? text);
        finished.push(() => this.settle(m, text.length));
        continue;
      }
      this.pending.settle(key);
      const call = request.call;
      const at = texts.push(text) - 1;
      judged.push(
        whenJudged(gate.judgeMessage(text, m, call, request.judge), (answer) => {
          changed ||= answer.changed;
          texts[at] = answer.frame;
          finished.push(() => this.deps.telemetry.toolFinished(call, { error: answer.refused, resultSize: answer.frame.length }));
        }),
      );
    }
    // The batch waits for its slowest judgement (a secret scan), then goes whole.
    const waiting = judged.some((j) => j instanceof Promise) ? Promise.all(judged) : undefined;
    if (waiting) this.deps.telemetry.track(waiting);
    whenSettled(waiting, () => {
      this.deps.toHost(changed ? joinBatch(texts) : frame);
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
    const pending = this.pending.peek(key);
    if (pending?.method === 'tools/list' || pending?.judge) return false;
    if (pending?.method === 'tools/call' && frame.indexOf(INPUT_REQUIRED_MARKER) !== -1) return false;
    const request = this.pending.settle(key);
    if (request?.call) {
      this.deps.telemetry.toolFinished(request.call, {
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
  onUpstreamOversizeGated(info: OversizeFrame): void {
    const reason = `upstream answer of ${info.totalBytes} bytes exceeds maxFrameBytes (${this.deps.config.maxFrameBytes}); with result rules on, such answers are not relayed`;
    this.deps.telemetry.warning('frame_too_large', reason, { direction: 'upstream', frameBytes: info.totalBytes });
    const id = idFromHead(info.head.toString('utf8'));
    const request = id === undefined ? undefined : this.pending.settle(rawIdKey(id));
    if (!request) return;
    const frame =
      request.judge && request.call
        ? blockedRefusal(this.deps.config.refusal, request.rawId, {
            decision: 'block',
            ruleId: null,
            reason,
            tool: request.call.namespacedTool,
            phase: 'result',
          })
        : answerTooLargeError(request.rawId, { frameBytes: info.totalBytes, maxFrameBytes: this.deps.config.maxFrameBytes });
    if (!request.cancelled) this.deps.toHost(frame);
    if (request.call)
      this.deps.telemetry.toolFinished(request.call, {
        error: { code: request.judge ? ProxyErrorCode.blocked : ProxyErrorCode.upstreamExited, message: reason },
        resultSize: frame.length,
      });
  }

  /** An upstream frame over maxFrameBytes was relayed but not parsed: settle its request if its id is readable. */
  onUpstreamOversize(info: OversizeFrame): void {
    const reason = `upstream frame of ${info.totalBytes} bytes exceeds maxFrameBytes; relayed without inspection`;
    this.deps.telemetry.warning('frame_too_large', reason, { direction: 'upstream', frameBytes: info.totalBytes });
    const id = idFromHead(info.head.toString('utf8'));
    const request = id === undefined ? undefined : this.pending.settle(rawIdKey(id));
    if (request?.call) this.deps.telemetry.toolFinished(request.call, { resultSize: info.totalBytes, uninspected: true });
  }

  /** The upstream is gone: every request it will never answer gets -32603. */
  failAll(upstreamExitCode: number | null, signal: string | null): void {
    const data = { upstreamExitCode, signal };
    for (const hold of this.held.drain('upstream exited')) {
      const frame = upstreamExitedError(hold.rawId, data);
      this.deps.toHost(frame);
      this.recordHoldEnded(hold, 'the upstream exited', frame.length);
    }
    for (const request of this.pending.drain()) {
      // A request the host cancelled expects no answer: it ends without one.
      const frame = request.cancelled ? undefined : upstreamExitedError(request.rawId, data);
      if (frame) this.deps.toHost(frame);
      if (request.call) {
        this.deps.telemetry.toolFinished(request.call, {
          error: frame
            ? { code: ProxyErrorCode.upstreamExited, message: 'upstream exited' }
            : { code: null, message: 'cancelled by the host; the upstream exited before answering' },
          resultSize: frame?.length ?? 0,
        });
      }
    }
  }

  /** The host closed its input: holds end without an answer. Returns how many there were. */
  dropHeld(): number {
    const holds = this.held.drain('host closed its input');
    for (const hold of holds) this.recordHoldEnded(hold, 'the host closed its input');
    return holds.length;
  }

  /**
   * Telemetry for a hold that ended before a decision: the approval (if one was asked) is resolved as
   * cancelled, and the call failed — with -32603 when the proxy answered it, without a code otherwise.
   */
  private recordHoldEnded(hold: HeldCall, reason: string, answeredBytes?: number): void {
    const { telemetry } = this.deps;
    if (hold.approvalId) {
      telemetry.emit(EventType.approvalResolved, {
        approvalId: hold.approvalId,
        tool: hold.call.namespacedTool,
        outcome: 'cancelled',
        reason,
      });
    }
    telemetry.toolFinished(hold.call, {
      error: { code: answeredBytes === undefined ? null : ProxyErrorCode.upstreamExited, message: `held call ended: ${reason}` },
      resultSize: answeredBytes ?? 0,
    });
  }

  private route(message: ParsedMessage, frameBytes: number, out: Outlet): void {
    const method = message.method;
    if (method === 'notifications/cancelled' && this.cancel(message)) return;
    if (method === 'initialize') this.initializeVersion = stringParam(message, 'protocolVersion');
    const handler = method === undefined ? undefined : this.table[method];
    if (handler) return handler(message, frameBytes, out);
    this.passThrough(message, out);
  }

  /**
   * Forwards the original bytes; a request is remembered so its answer (or the upstream's exit)
   * settles it. `hideBlocked`: a `tools/list` whose answer is filtered (hideBlockedTools).
   */
  private passThrough(message: ParsedMessage, out: Outlet, hideBlocked = false): void {
    out.forward();
    if (message.isRequest) {
      const protocolVersion = requestProtocolVersion(message.value) ?? this.initializeVersion;
      const entry: PendingRequest = { rawId: message.rawId, method: message.method ?? '', protocolVersion };
      if (entry.method === 'tools/list') entry.listing = { startedAt: performance.now(), traceparent: traceparentOf(message.value) };
      this.pending.add(rawIdKey(message.rawId), hideBlocked ? { ...entry, hideBlocked } : entry);
    }
  }

  /**
   * `notifications/cancelled`: a forwarded request it names is no longer waited for (the notice is
   * forwarded; returns false). For a call we hold, the hold ends and upstream never hears of either
   * (returns true).
   */
  private cancel(message: ParsedMessage): boolean {
    if (message.param('requestId') === undefined) return false;
    const requestId = message.rawParam('requestId');
    if (requestId === undefined) return false;
    const key = rawIdKey(requestId);
    this.pending.cancel(key);
    const hold = this.held.cancel(key);
    if (!hold) return false;
    this.deps.telemetry.warning('call_cancelled_while_held', 'the host cancelled a held call; it was never forwarded', {
      requestId: hold.call.requestId,
      tool: hold.call.namespacedTool,
    });
    this.recordHoldEnded(hold, 'the host cancelled the call');
    return true;
  }

  /**
   * A batch is forwarded whole unless the gate refuses or holds some elements: then the elements
   * decided at once go upstream as a smaller batch (from their original bytes), refusals go to the
   * host as one batch of errors, and held elements travel alone once released.
   */
  private routeBatch(messages: ParsedMessage[], frame: Buffer, terminated: boolean): void {
    const needsGate = messages.some(
      (m) =>
        (m.method !== undefined && m.method in this.table) ||
        m.method === 'notifications/cancelled' ||
        m.problem !== undefined ||
        !Message.isObject(m.value),
    );
    if (!needsGate) {
      for (const m of messages) if (m.isRequest) this.passThrough(m, IGNORED);
      return this.deps.toUpstream(frame, terminated);
    }
    const forwarded: Buffer[] = [];
    const answers: Buffer[] = [];
    let collecting = true;
    for (const message of messages) {
      const text = Buffer.from(message.text);
      const out: Outlet = {
        forward: () => (collecting ? forwarded.push(text) : this.deps.toUpstream(text, true)),
        answer: (f) => (collecting ? answers.push(f) : this.deps.toHost(f)),
      };
      if (!Message.isObject(message.value)) {
        out.answer(invalidRequestError(NULL_ID, 'batch member is not a JSON-RPC message object'));
        continue;
      }
      if (message.problem) {
        this.deps.telemetry.warning('ambiguous_frame', message.problem, { enforced: true, forwarded: false, batch: true });
        if (expectsAnswer(message.value)) out.answer(invalidRequestError(refusalId(message), message.problem));
        continue;
      }
      this.route(message, text.length, out);
    }
    collecting = false;
    if (forwarded.length === messages.length) this.deps.toUpstream(frame, terminated);
    else if (forwarded.length > 0) this.deps.toUpstream(joinBatch(forwarded), true);
    if (answers.length > 0) this.deps.toHost(joinBatch(answers)); // a batch is answered with an array
  }

  private settle(message: ParsedMessage, frameBytes: number): void {
    const value = message.value;
    if (!Message.isResponse(value)) return;
    const request = this.pending.settle(rawIdKey(message.rawId));
    if (!request) return;
    if (request.call) {
      const result = value.result as { isError?: unknown; resultType?: unknown; requestState?: unknown } | undefined;
      // Result rules judge only a call's final answer, never an input_required round.
      if (request.judge && result?.resultType !== 'input_required') this.resultGate?.observe(message, request.call, request.judge);
      const inputRequired = result?.resultType === 'input_required' && this.openRound(request, result);
      this.deps.telemetry.toolFinished(request.call, {
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
    this.rounds.add(
      { tool: round.tool, argumentsText: round.argumentsText(), requestState },
      { number: round.number, firstCallId: round.firstCallId, approvalId: round.approvalId },
      request.rawId,
    );
    return true;
  }

  /** A tools/list answer: its annotations are kept for the rules, and the control plane registers the tools. */
  /** What the tools.registered event says of the tools/list that listed the tools (docs/events.md#mcptoolsregistered). */
  private listingOf(request: PendingRequest): ListingFields {
    const listing: ListingFields = { protocolVersion: request.protocolVersion };
    if (!request.listing) return listing;
    listing.requestId = this.deps.originOf?.(request.rawId)?.clientId ?? request.rawId;
    listing.durationMs = performance.now() - request.listing.startedAt;
    listing.traceparent = request.listing.traceparent;
    return listing;
  }

  private register(tools: ToolDefinition[], listing: ListingFields): void {
    this.catalog.register(tools);
    const { config, controlPlane, telemetry } = this.deps;
    let answer;
    try {
      answer = controlPlane.defineTools({ agentKey: config.agentKey, serverName: config.serverName, tools });
    } catch (err) {
      return this.registrationFailed(tools, err, listing);
    }
    if (!(answer instanceof Promise)) return telemetry.toolsRegistered(tools, answer.changed, listing);
    answer.then(
      (a) => telemetry.toolsRegistered(tools, a.changed, listing),
      (err: unknown) => this.registrationFailed(tools, err, listing),
    );
  }

  private registrationFailed(tools: ToolDefinition[], err: unknown, listing: ListingFields): void {
    const reason = `could not register ${tools.length} tool(s) with the control plane: ${(err as Error).message}`;
    this.deps.log(reason);
    this.deps.telemetry.warning('tool_registration_failed', reason);
    this.deps.telemetry.toolsRegistered(tools, [], listing);
  }
}

/** Runs `then` on a judgement now, or once it settles; returns the promise to wait for, if any. */
function whenJudged(answer: JudgedAnswer | Promise<JudgedAnswer>, then: (a: JudgedAnswer) => void): void | Promise<void> {
  return answer instanceof Promise ? answer.then(then) : then(answer);
}

/** Whether one upstream answer is a tools/call's `input_required` round (its result's resultType). */
function isInputRequired(frame: Buffer): boolean {
  const read = readFrame(frame);
  if (read.kind !== 'single' || !Message.isResponse(read.message.value)) return false;
  return (read.message.value.result as { resultType?: unknown } | undefined)?.resultType === 'input_required';
}

/** A string member of a request's params, or undefined. */
function stringParam(message: ParsedMessage, name: string): string | undefined {
  const params = (message.value as { params?: Record<string, unknown> }).params;
  const value = Message.isObject(params) ? params[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function joinBatch(parts: Buffer[]): Buffer {
  const pieces: Buffer[] = [BATCH_OPEN];
  parts.forEach((p, i) => {
    if (i > 0) pieces.push(BATCH_COMMA);
    pieces.push(p);
  });
  pieces.push(BATCH_CLOSE);
  return Buffer.concat(pieces);
}
