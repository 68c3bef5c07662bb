/**
 * The interceptor: routes each host frame either straight through (its original bytes) or, for the
 * methods in the interception table, to the gate, whose verdict it enacts: it is the only writer of
 * the relay, and tells the observer what it wrote (docs/architecture.md). Upstream frames go to
 * upstream-answers.ts. Mode is read here, once.
 */
import type { OversizeFrame } from '../framing/frame-reader.js';
import { invalidRequestError, ProxyErrorCode, parseError, upstreamExitedError } from '../jsonrpc/errors.js';
import { jsonErrorReason } from '../jsonrpc/json-error-reason.js';
import { idFromHead } from '../jsonrpc/json-scan.js';
import { Message, type ParsedMessage, rawIdKey, readHostFrame } from '../jsonrpc/message.js';
import { expectsAnswer, refusalId } from '../jsonrpc/one-reading.js';
import { requestProtocolVersion } from '../jsonrpc/protocol-era.js';
import { traceparentOf } from '../jsonrpc/trace-context.js';
import { whenSettled } from '../policy/policy-hook.js';
import { ToolCatalog } from '../policy/tool-catalog.js';
import { type BatchRouter, joinBatch, type Outlet, routeBatch } from './batch.js';
import { type HeldCall, HeldCalls } from './held-calls.js';
import { startHoldProgress } from './hold-progress.js';
import { InputRounds } from './input-rounds.js';
import { type PendingRequest, PendingRequests } from './pending-requests.js';
import type { RelayPorts } from './ports.js';
import { ResultGate } from './result-gate.js';
import { reusedIdReason } from './reused-id.js';
import { ToolCallGate } from './tool-call-gate.js';
import { UpstreamAnswers } from './upstream-answers.js';
import type { Verdict } from './verdict.js';

type MessageHandler = (message: ParsedMessage, frameBytes: number, out: Outlet) => void;

/** The outlet of a frame already forwarded (monitor mode): nothing more to send. */
const IGNORED: Outlet = { forward: () => undefined, answer: () => undefined };

export class Interceptor {
  private readonly catalog = new ToolCatalog();
  private readonly pending = new PendingRequests();
  private readonly held = new HeldCalls();
  private readonly rounds = new InputRounds();
  private readonly gate: ToolCallGate;
  private readonly enforce: boolean;
  private readonly answers: UpstreamAnswers;
  private readonly batchRouter: BatchRouter;
  /** The protocol version the host's `initialize` asked for (2025 era; a 2026-07-28 request names its own). */
  private initializeVersion: string | undefined;
  /** Enforce mode with result rules or hideBlockedTools (see gatesAnswers). */
  readonly gatesAnswers: boolean;

  /** The interception table: every method not listed here passes through untouched. */
  private readonly table: Record<string, MessageHandler> = {
    'tools/call': (message, frameBytes, out) => this.enact(this.gate.decide(message, frameBytes), out),
    'tools/list': (message, _frameBytes, out) => this.passThrough(message, out, this.answers.filtersLists),
    'notifications/cancelled': (message, _frameBytes, out) => {
      if (!this.cancel(message)) this.passThrough(message, out);
    },
  };

  constructor(private readonly ports: RelayPorts) {
    const { settings, observer } = ports;
    this.enforce = settings.mode === 'enforce';
    const resultGate = settings.results.any ? new ResultGate({ settings, observer }) : undefined;
    const listFilter = this.enforce ? settings.listFilter : undefined;
    const { catalog, pending, held, rounds } = this;
    const sessionProtocolVersion = (): string | undefined => this.initializeVersion;
    const forwardedAt = (): number | undefined => this.forwardedAt;
    this.gate = new ToolCallGate({ ...ports, enforce: this.enforce, catalog, held, rounds, sessionProtocolVersion, forwardedAt });
    this.answers = new UpstreamAnswers({ ...ports, catalog, pending, rounds, resultGate, listFilter });
    this.gatesAnswers = this.enforce && (resultGate !== undefined || listFilter !== undefined);
    this.batchRouter = this.router();
  }

  /** Monitor mode: frames forwarded and not yet read (see onHostFrame), oldest first. Always empty in enforce mode. */
  private unread: Buffer[] = [];
  /** When each of the first `unreadAt.length` unread frames was sent on, for those read later (readLater). */
  private unreadAt: number[] = [];
  /** While a frame read later is being read: when it was sent on (the call's start, for its duration). */
  private forwardedAt: number | undefined;

  /**
   * One frame from the host. Monitor mode forwards it first and reads it once the caller has sent
   * the whole chunk's frames on (`afterHostChunk`): nothing it reads can change what upstream gets,
   * so the reading is not on the frames' way
   * (docs/performance.md#off-the-frames-way-and-a-smaller-row-issue-13-this-round).
   * Enforce mode reads it first and forwards what the policy allows.
   */
  onHostFrame(frame: Buffer, terminated: boolean): void {
    if (!this.enforce) {
      this.ports.toUpstream(frame, terminated);
      this.unread.push(frame);
      return;
    }
    const read = readHostFrame(frame);
    const forwardWhole = (): void => this.ports.toUpstream(frame, terminated);
    switch (read.kind) {
      case 'blank':
        return forwardWhole();
      case 'invalid-json':
        this.ports.observer.warning('invalid_json', jsonErrorReason(read.reason), { enforced: true, frameBytes: frame.length });
        return this.ports.toHost(parseError(read.reason));
      case 'single': {
        const problem = read.problem ?? read.message.problem;
        if (problem) return this.refuseFrame([read.message], false, problem, read.problemKey);
        return this.route(read.message, frame.length, { forward: forwardWhole, answer: (f) => this.ports.toHost(f) });
      }
      case 'batch':
        if (read.problem) return this.refuseFrame(read.messages, true, read.problem);
        return routeBatch(this.batchRouter, read.messages, frame, terminated);
    }
  }

  /**
   * The host's chunk has been split and its frames' writes are out: monitor mode reads them now, in
   * order (and any it was told to read later).
   */
  afterHostChunk(): void {
    if (this.unread.length === 0) return;
    const frames = this.unread;
    const at = this.unreadAt;
    this.unread = [];
    this.unreadAt = [];
    for (let i = 0; i < frames.length; i++) {
      this.forwardedAt = at[i];
      this.observe(frames[i]!);
    }
    this.forwardedAt = undefined;
  }

  /**
   * Monitor mode: the upstream has not taken the chunk's bytes yet (its stdin is full, as with a
   * large frame): its frames are read once it has (`afterHostChunk` on drain), so that reading them
   * does not hold up the rest of the write; their calls are timed from now. Anything that needs
   * them read first (an upstream frame, the upstream's exit, the end of the session) reads them first.
   */
  readLater(): void {
    const now = performance.now();
    while (this.unreadAt.length < this.unread.length) this.unreadAt.push(now);
  }

  /** What a batch needs of this interceptor (batch.ts). */
  private router(): BatchRouter {
    return {
      observer: this.ports.observer,
      intercepts: (m) =>
        (m.method !== undefined && m.method in this.table) ||
        m.problem !== undefined ||
        !Message.isObject(m.value) ||
        (m.isRequest && reusedIdReason(rawIdKey(m.rawId), m.rawId, this.pending, this.held) !== undefined),
      route: (m, frameBytes, out) => this.route(m, frameBytes, out),
      remember: (m) => this.passThrough(m, IGNORED),
      toUpstream: this.ports.toUpstream,
      toHost: this.ports.toHost,
    };
  }

  /** Monitor mode, after forwarding: track requests, record what the policy would have done. */
  private observe(frame: Buffer): void {
    const { observer } = this.ports;
    const read = readHostFrame(frame);
    if (read.kind === 'invalid-json') {
      observer.warning('invalid_json', jsonErrorReason(read.reason), { enforced: false, frameBytes: frame.length });
      return;
    }
    if (read.kind === 'blank') return;
    const messages = read.kind === 'single' ? [read.message] : read.messages;
    const problem = read.problem ?? messages.find((m) => m.problem)?.problem;
    if (problem) observer.warning('ambiguous_frame', problem, { enforced: false, frameBytes: frame.length });
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
    this.ports.observer.warning('ambiguous_frame', problem, { enforced: true, forwarded: false });
    const answers = messages.filter((m) => expectsAnswer(m.value)).map((m) => invalidRequestError(refusalId(m, problemKey), problem));
    if (answers.length === 0) return;
    this.ports.toHost(batch ? joinBatch(answers) : (answers[0] as Buffer));
  }

  /** A host frame over maxFrameBytes: its bytes are gone, so answer it if its id is readable. */
  onHostOversize(info: OversizeFrame): void {
    this.afterHostChunk(); // the frames before it are read first, as they came
    const limit = this.ports.settings.maxFrameBytes;
    const reason = `frame of ${info.totalBytes} bytes exceeds maxFrameBytes (${limit}); it was not forwarded`;
    const id = idFromHead(info.head.toString('utf8'));
    this.ports.log(`refused a host frame: ${reason}${id ? ` (request id ${id})` : ''}`);
    this.ports.observer.warning('frame_too_large', reason, { direction: 'host', frameBytes: info.totalBytes });
    if (id !== undefined) this.ports.toHost(invalidRequestError(id, reason));
  }

  /** One frame from upstream, already relayed to the host: telemetry only. */
  onUpstreamFrame(frame: Buffer): void {
    this.afterHostChunk(); // the requests it may answer are read first
    this.answers.onFrame(frame);
  }

  /** Enforce mode with result rules or hideBlockedTools: one whole upstream frame, before the host gets it. */
  onUpstreamFrameGated(frame: Buffer): void {
    this.answers.onFrameGated(frame);
  }

  /** Enforce mode with result rules: an upstream frame over maxFrameBytes, not relayed (upstream-answers.ts). */
  onUpstreamOversizeGated(info: OversizeFrame): void {
    this.answers.onOversizeGated(info);
  }

  /** An upstream frame over maxFrameBytes was relayed but not parsed. */
  onUpstreamOversize(info: OversizeFrame): void {
    this.afterHostChunk();
    this.answers.onOversize(info);
  }

  /** Resolves once every forwarded request the host did not cancel is answered, or after `timeoutMs`. */
  whenAnswered(timeoutMs: number): Promise<void> {
    this.afterHostChunk();
    return this.pending.whenAnswered(timeoutMs);
  }

  /** The upstream is gone: every request it will never answer gets -32603. */
  failAll(upstreamExitCode: number | null, signal: string | null): void {
    this.afterHostChunk(); // a request forwarded but not read yet is answered too
    const data = { upstreamExitCode, signal };
    for (const hold of this.held.drain('upstream exited')) {
      const frame = upstreamExitedError(hold.rawId, data);
      this.ports.toHost(frame);
      this.recordHoldEnded(hold, 'the upstream exited', frame.length);
    }
    for (const request of this.pending.drain()) {
      // A request the host cancelled expects no answer: it ends without one.
      const frame = request.cancelled ? undefined : upstreamExitedError(request.rawId, data);
      if (frame) this.ports.toHost(frame);
      if (request.call) {
        this.ports.observer.toolFinished(request.call, {
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
   * A hold that ended before a decision: the approval (if one was asked) is resolved as cancelled,
   * and the call failed — with -32603 when the proxy answered it, without a code otherwise.
   */
  private recordHoldEnded(hold: HeldCall, reason: string, answeredBytes?: number): void {
    const { observer } = this.ports;
    if (hold.approvalId) observer.approvalResolved(hold.approvalId, hold.call.namespacedTool, 'cancelled', reason);
    observer.toolFinished(hold.call, {
      error: { code: answeredBytes === undefined ? null : ProxyErrorCode.upstreamExited, message: `held call ended: ${reason}` },
      resultSize: answeredBytes ?? 0,
    });
  }

  private route(message: ParsedMessage, frameBytes: number, out: Outlet): void {
    if (message.isRequest && this.refusesReusedId(message, out)) return;
    if (message.method === 'initialize') this.initializeVersion = stringOrUndefined(message.param('protocolVersion'));
    const handler = message.method === undefined ? undefined : this.table[message.method];
    if (handler) return handler(message, frameBytes, out);
    this.passThrough(message, out);
  }

  /**
   * A request with the id of one still pending or held (reused-id.ts): enforce mode refuses it with
   * -32600 (returns true); monitor mode, which forwarded it already, records a warning.
   */
  private refusesReusedId(message: ParsedMessage, out: Outlet): boolean {
    const rawId = message.rawId;
    const reason = reusedIdReason(rawIdKey(rawId), rawId, this.pending, this.held);
    if (reason === undefined) return false;
    const requestId = this.ports.originOf?.(rawId)?.clientId ?? rawId;
    const method = message.method ?? '';
    const tool = method === 'tools/call' ? { tool: message.toolCall().tool } : undefined;
    this.ports.observer.warning('request_id_reused', reason, { requestId, method, ...tool, enforced: this.enforce });
    if (!this.enforce) return false;
    out.answer(invalidRequestError(rawId, reason));
    return true;
  }

  /**
   * Writes what the gate decided, then tells the observer: a forwarded call has started (and waits
   * for its answer), a refused one has failed; a hold writes once its verdict comes.
   */
  private enact(verdict: Verdict, out: Outlet): void {
    const { observer } = this.ports;
    switch (verdict.kind) {
      case 'forward':
        out.forward();
        if (verdict.pending) this.pending.add(verdict.pending.key, verdict.pending.request);
        if (!verdict.call) return;
        observer.toolStarted(verdict.call);
        if (verdict.observed) whenSettled(verdict.observed, (v) => observer.guardrailEvaluated(verdict.call!, v, false));
        return;
      case 'answer': {
        out.answer(verdict.frame);
        if (!verdict.call) return;
        const refusal = { code: verdict.code, message: verdict.reason };
        const outcome = verdict.modern ? { isError: true, refusal } : { error: refusal };
        return observer.toolFinished(verdict.call, { ...outcome, resultSize: verdict.frame.length });
      }
      case 'hold': {
        const progress = verdict.progress;
        const stop = progress ? startHoldProgress({ ...progress, toHost: this.ports.toHost }) : undefined;
        void verdict.until.then((next) => {
          stop?.();
          this.enact(next, out);
        });
        return;
      }
      case 'none':
        return;
    }
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
    this.ports.observer.warning('call_cancelled_while_held', 'the host cancelled a held call; it was never forwarded', {
      requestId: hold.call.requestId,
      tool: hold.call.namespacedTool,
    });
    this.recordHoldEnded(hold, 'the host cancelled the call');
    return true;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
