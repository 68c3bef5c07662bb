/**
 * One proxy run: spawns the upstream, wires host ⇄ interceptor ⇄ upstream, and shuts everything
 * down in order. Resolves with the exit code the `ratri` process should end with.
 */

import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ConfigError } from '../config/load-config.js';
import { resolveConfigPath } from '../config/paths.js';
import type { OtlpConfig, ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { FrameReader } from '../framing/frame-reader.js';
import { FrameWriter, type UnfinishedFrame } from '../framing/frame-writer.js';
import { readFrame } from '../jsonrpc/message.js';
import type { SessionRecorder } from '../replay/session-recorder.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { type EventSink, EventType } from '../telemetry/event.js';
import { EventQueue } from '../telemetry/event-queue.js';
import { JsonlSink } from '../telemetry/jsonl-sink.js';
import type { OpenedOtlp } from '../telemetry/otlp-open.js';
import { newSessionId, Telemetry } from '../telemetry/telemetry.js';
import { Interceptor } from './interceptor.js';
import type { OriginOf } from './request-origin.js';
import { StallWatch } from './stall-watch.js';
import { type StopBudget, StopClock } from './stop-clock.js';
import { upstreamEnv } from './upstream-env.js';
import { type UpstreamExit, UpstreamProcess } from './upstream-process.js';

export interface ProxySessionOptions {
  config: ProxyConfig;
  /** The host side: what the host writes (our stdin) and what it reads (our stdout). */
  hostIn: Readable;
  hostOut: Writable;
  log(message: string): void;
  /**
   * The control plane to use instead of opening the one the config names: the HTTP front shares one
   * among all its sessions. Whoever passes it closes it; the session only closes one it opened.
   */
  controlPlane?: ControlPlane;
  recorder?: SessionRecorder;
  stopBudget?: StopBudget;
  /**
   * Why the session ended when the host side closed, for the `mcp.session.ended` event. Default
   * "host closed stdin"; the HTTP front passes its own (a DELETE, an idle session, …) since its
   * "host input" is an in-memory stream that it ends itself.
   */
  hostCloseReason?: () => string;
  /** Set by a front that rewrites request ids before the interceptor reads them (request-origin.ts). */
  originOf?: OriginOf;
  /** For OpenTelemetry's network.transport: `pipe` (stdio, the default) or `tcp` (the HTTP front). */
  networkTransport?: 'pipe' | 'tcp';
}

/** How long a half-written frame may sit still before ratri says so (RATRI_STALL_WARN_MS, default 10 s). */
function stallWarnMs(): number {
  const ms = Number(process.env.RATRI_STALL_WARN_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : 10_000;
}

interface OpenedSinks {
  controlPlane: ControlPlane;
  jsonl?: JsonlSink;
  otlp?: OpenedOtlp;
}

function eventSinks(sinks: OpenedSinks): EventSink[] {
  const list: EventSink[] = [sinks.controlPlane.events];
  if (sinks.jsonl) list.push(sinks.jsonl);
  if (sinks.otlp) list.push(sinks.otlp.sink);
  return list;
}

/** A proxy.warning for the first export the collector did not take (docs/opentelemetry.md#when-the-collector-is-away). */
function onceWarning(telemetry: Telemetry, endpoint: string | undefined): (reason: string) => void {
  let warned = false;
  return (reason) => {
    if (warned) return;
    warned = true;
    telemetry.warning('otlp_export_failed', `spans could not be exported to ${endpoint}: ${reason} (further failures are counted)`);
  };
}

/** The shell's convention for a process ended by a signal: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals | null): number {
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

export function exitCodeOf(exit: UpstreamExit): number {
  return exit.code ?? signalExitCode(exit.signal);
}

/** The upstream's output ended in the middle of a frame that was not relayed whole: stderr and a warning say what the host got. */
function reportUnfinished(unfinished: UnfinishedFrame, who: string, log: (message: string) => void, telemetry: Telemetry): void {
  const reason =
    unfinished.outcome === 'dropped'
      ? `output ended in the middle of a frame (${unfinished.bytes} bytes without a newline): not a complete JSON-RPC message, not relayed`
      : `output ended in the middle of a frame longer than maxFrameBytes, ${unfinished.bytes} bytes of which were already relayed: the line was ended there, so that ratri's own answers stay on lines of their own`;
  log(`${who}: ${reason}`);
  telemetry.warning('unfinished_frame', reason, {
    direction: 'upstream',
    frameBytes: unfinished.bytes,
    relayed: unfinished.outcome === 'cut',
  });
}

export class ProxySession {
  readonly sessionId = newSessionId();
  private upstream: UpstreamProcess | undefined;
  private stopping: Promise<void> | undefined;
  /** Set when a stop began (the host closed its input, or a signal): it times the rest. */
  private clock: StopClock | undefined;
  private stopSignal: NodeJS.Signals | undefined;
  private hostClosed = false;
  private interceptor: Interceptor | undefined;
  /** Set once the session's telemetry exists: an OTLP export that fails says so through it, once. */
  private warnOtlp: ((reason: string) => void) | undefined;

  constructor(private readonly options: ProxySessionOptions) {}

  /** Runs until the upstream has exited; throws SpawnError when it cannot start. */
  async run(): Promise<number> {
    const { config, hostIn, hostOut, log, recorder } = this.options;
    // The upstream starts first, so that its own start-up overlaps with opening the store and the
    // sinks (docs/performance.md#start-up); if one of them cannot open, the upstream is stopped again.
    const upstream = await UpstreamProcess.start(config.upstream, config.baseDir, upstreamEnv(config.upstream, config.secretEnv));
    this.upstream = upstream;
    let sinks: OpenedSinks;
    try {
      sinks = await this.openSinks();
    } catch (err) {
      await upstream.stop();
      throw err;
    }
    const { controlPlane } = sinks;
    // A sink that fails (a full disk) fails every batch, every 20 ms: say it once, count the rest.
    const queue = new EventQueue(eventSinks(sinks), 10_000, 500, (err) => {
      if (queue.stats.failedBatches === 1) log(`telemetry sink failed: ${err.message} (further failures are counted, not shown)`);
    });
    const telemetry = new Telemetry(
      { agentKey: config.agentKey, environment: config.environment, serverName: config.serverName, sessionId: this.sessionId },
      queue,
      config.redactKeys,
      config.secrets.redact ? secretFinder(config.secrets) : undefined,
    );

    this.warnOtlp = onceWarning(telemetry, config.telemetry.otlp?.endpoint);
    const child = upstream.child;
    const started = Date.now();
    telemetry.emit(EventType.sessionStarted, {
      mode: config.mode,
      upstream: { command: config.upstream.command, args: config.upstream.args ?? [], pid: child.pid ?? null },
    });

    const toHost = new FrameWriter(hostOut, config.maxFrameBytes);
    const toUpstream = new FrameWriter(child.stdin!);
    const interceptor = new Interceptor({
      config,
      controlPlane,
      telemetry,
      sessionId: this.sessionId,
      log,
      originOf: this.options.originOf,
      toUpstream: (frame, terminated) => {
        recorder?.toUpstream(frame, terminated);
        if (!toUpstream.writeFrame(frame, terminated)) hostIn.pause();
      },
      toHost: (frame) => {
        recorder?.toHost(frame, true);
        toHost.writeFrame(frame);
      },
    });
    this.interceptor = interceptor;
    child.stdin!.on('drain', () => hostIn.resume());
    child.stdin!.on('error', () => undefined); // EPIPE after the upstream died: its exit is handled below

    // Host → upstream: every frame is read once and routed.
    const hostReader = new FrameReader(
      {
        onFrame: (frame, terminated) => {
          recorder?.fromHost(frame, terminated);
          interceptor.onHostFrame(frame, terminated);
        },
        onOversize: (info) => interceptor.onHostOversize(info),
      },
      { maxFrameBytes: config.maxFrameBytes },
    );
    // Corked per chunk: the frames of one read leave in one writev, as a byte relay would send them.
    hostIn.on('data', (chunk: Buffer) => {
      child.stdin!.cork();
      hostReader.push(chunk);
      child.stdin!.uncork();
    });
    hostIn.on('end', () => {
      hostReader.end();
      recorder?.hostClosed();
      this.hostGone();
    });
    hostIn.on('error', () => this.hostGone());
    hostOut.on('error', () => this.hostGone());

    // Upstream → host: bytes are relayed first (line by line); a tap reassembles frames for telemetry afterwards.
    // With result rules in enforce mode, the tap's frames are what the host gets (docs/policy.md#phases-call-and-result).
    const gated = interceptor.gatesAnswers;
    let tail: Buffer | undefined; // what the upstream left after its last newline, once its output ended
    const tap = new FrameReader(
      {
        onFrame: (frame, terminated) => {
          if (!terminated) return void (tail = frame);
          recorder?.fromUpstream(frame, true);
          if (gated) return interceptor.onUpstreamFrameGated(frame);
          recorder?.toHost(frame, true);
          interceptor.onUpstreamFrame(frame);
        },
        // One cut off by the end of the output answers nothing: its request gets -32603 (reported below).
        onOversize: (info) => info.terminated && (gated ? interceptor.onUpstreamOversizeGated(info) : interceptor.onUpstreamOversize(info)),
      },
      { maxFrameBytes: config.maxFrameBytes },
    );
    const pauseUntilDrained = (): void => {
      child.stdout!.pause();
      hostOut.once('drain', () => child.stdout!.resume());
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      if (gated) {
        tap.push(chunk);
        if (hostOut.writableNeedDrain) pauseUntilDrained();
        return;
      }
      if (!toHost.relay(chunk)) pauseUntilDrained();
      tap.push(chunk);
    });
    child.stdout!.on('end', () => {
      tap.end();
      // A frame left without its newline reaches the host only if it is a whole message (docs/errors.md).
      const kind = tail && readFrame(tail).kind;
      const whole = kind === 'single' || kind === 'batch';
      const held: UnfinishedFrame | undefined = tail && { outcome: whole ? 'delivered' : 'dropped', bytes: tail.length };
      const unfinished = gated ? held : toHost.endRelay(whole);
      if (tail) recorder?.fromUpstream(tail, false);
      if (tail && unfinished?.outcome === 'delivered') {
        if (gated) interceptor.onUpstreamFrameGated(tail);
        else {
          recorder?.toHost(tail, true);
          interceptor.onUpstreamFrame(tail);
        }
      }
      if (unfinished && unfinished.outcome !== 'delivered' && kind !== 'blank') {
        reportUnfinished(unfinished, `upstream "${config.upstream.command}"`, log, telemetry);
      }
    });

    const stalls = new StallWatch(
      [
        {
          who: 'the host',
          partialBytes: () => hostReader.partialBytes,
          consequence: () => 'it is forwarded only once its line ends',
        },
        {
          who: `upstream "${config.upstream.command}"`,
          partialBytes: () => tap.partialBytes,
          consequence: () => (toHost.queuedFrames > 0 ? `${toHost.queuedFrames} answer(s) of ratri wait behind it` : ''),
        },
      ],
      stallWarnMs(),
      log,
    );

    const exit = await upstream.exited;
    stalls.stop();
    if (!this.hostClosed && !this.stopSignal) {
      const how = exit.code !== null ? `with code ${exit.code}` : `by signal ${exit.signal}`;
      log(`upstream "${config.upstream.command}" exited ${how}`);
    }
    interceptor.failAll(exit.code, exit.signal);
    recorder?.upstreamExited(exitCodeOf(exit));
    telemetry.emit(EventType.sessionEnded, {
      durationMs: Date.now() - started,
      upstreamExitCode: exit.code,
      signal: exit.signal,
      reason: this.stopSignal
        ? `proxy received ${this.stopSignal}`
        : this.hostClosed
          ? (this.options.hostCloseReason?.() ?? 'host closed stdin')
          : 'upstream exited',
      droppedEvents: queue.stats.dropped,
    });
    hostIn.pause();
    // Within the stop's budget when one is under way; an upstream that exited by itself leaves more time.
    await telemetry.close(this.clock?.flushMs() ?? 2000);
    await recorder?.settled();
    if (!this.options.controlPlane) await controlPlane.close(this.clock?.flushMs() ?? 2000);
    if (queue.stats.dropped > 0) log(`telemetry: ${queue.stats.dropped} event(s) dropped (queue full)`);
    if (queue.stats.failedBatches > 1) log(`telemetry: ${queue.stats.failedBatches} batch(es) of events could not be written`);
    const notExported = sinks.otlp?.notExported() ?? 0;
    if (notExported > 0) log(`telemetry.otlp: ${notExported} span(s) not exported (collector unreachable or queue full)`);
    if (this.stopSignal) return signalExitCode(this.stopSignal);
    if (this.hostClosed && exit.code === null) return 0; // we stopped it by signal after a clean host EOF
    return exitCodeOf(exit);
  }

  /**
   * The control plane (the one passed in, or the one the config names; its modules, better-sqlite3
   * among them, are loaded here, after the upstream was spawned) and the JSONL file, if any.
   */
  private async openSinks(): Promise<OpenedSinks> {
    const { config } = this.options;
    let controlPlane = this.options.controlPlane;
    if (!controlPlane) {
      const [{ openControlPlane }, { StoreError }] = await Promise.all([
        import('../control/open-control-plane.js'),
        import('../control/store.js'),
      ]);
      try {
        controlPlane = openControlPlane(config);
      } catch (err) {
        if (err instanceof StoreError) throw new ConfigError(config.source, [`store: ${err.message}`]);
        throw err;
      }
    }
    const otlp = config.telemetry.otlp ? await this.openOtlp(config.telemetry.otlp) : undefined;
    if (!config.telemetry.jsonl) return { controlPlane, otlp };
    const path = resolveConfigPath(config.baseDir, config.telemetry.jsonl);
    try {
      return { controlPlane, otlp, jsonl: new JsonlSink(path) };
    } catch (err) {
      if (!this.options.controlPlane) await controlPlane.close(2000);
      throw new ConfigError(config.source, [`telemetry.jsonl: cannot open ${path}: ${(err as Error).message}`]);
    }
  }

  /** The OpenTelemetry sink; its SDK is loaded here, and only when `telemetry.otlp` is set. */
  private async openOtlp(otlp: OtlpConfig): Promise<OpenedOtlp> {
    const { config } = this.options;
    const { openOtlpSink } = await import('../telemetry/otlp-open.js');
    const session = {
      agentKey: config.agentKey,
      environment: config.environment,
      serverName: config.serverName,
      networkTransport: this.options.networkTransport ?? 'pipe',
    };
    return openOtlpSink(otlp, session, (reason) => this.warnOtlp?.(reason));
  }

  /**
   * The host closed its input. It may still be reading our output (a piped script does exactly
   * that), so answers already on their way are let through first: the upstream's stdin is closed
   * once every forwarded request the host did not cancel is answered, or when the budget's answer
   * time is up. Held calls end unanswered.
   */
  private hostGone(): void {
    if (this.hostClosed) return;
    this.hostClosed = true;
    this.clock ??= new StopClock(this.options.stopBudget);
    const dropped = this.interceptor?.dropHeld() ?? 0;
    if (dropped > 0) this.options.log(`host closed its input; ${dropped} held call(s) dropped without an answer`);
    const answered = this.interceptor?.pending.whenAnswered(this.clock.budget.answersMs) ?? Promise.resolve();
    void answered.then(() => this.stopUpstream());
  }

  /**
   * SIGINT/SIGTERM/SIGHUP to the proxy: the same stop, at once (no answers are waited for); the exit
   * code reports the signal. A signal while a stop is under way (a second signal, or one after the
   * host closed its input) kills the upstream's process group at once. Returns false when there is
   * no upstream to stop (it has not started), so the caller can exit right away.
   */
  stop(signal: NodeJS.Signals): boolean {
    if (!this.upstream) return false;
    this.stopSignal ??= signal;
    if (this.clock) {
      this.clock.escalate();
      this.upstream.signal('SIGKILL');
      return true;
    }
    this.clock = new StopClock(this.options.stopBudget);
    void this.stopUpstream();
    return true;
  }

  private stopUpstream(): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.upstream || !this.clock) return;
      await this.upstream.stop(this.clock.upstreamTimings());
    })();
    return this.stopping;
  }
}
