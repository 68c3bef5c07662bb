/**
 * One proxy run, as its lifecycle (docs/architecture.md): spawn the upstream → open the services →
 * connect the pipes (host ⇄ relay ⇄ upstream) → await the upstream's exit → finish (answer what is
 * left, record the end, flush, pick the exit code). Where it is stands in one state. The HTTP front
 * runs one of these per session.
 */
import type { Readable, Writable } from 'node:stream';
import type { ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { FrameWriter } from '../framing/frame-writer.js';
import { Interceptor } from '../relay/interceptor.js';
import type { OriginOf } from '../relay/request-origin.js';
import type { SessionRecorder } from '../replay/session-recorder.js';
import { EventType } from '../telemetry/event.js';
import { newSessionId } from '../telemetry/telemetry.js';
import { exitCodeOf, signalExitCode } from './exit-code.js';
import { HostPipe } from './host-pipe.js';
import { relayPorts } from './relay-ports.js';
import { SessionServices } from './session-services.js';
import { StallWatch } from './stall-watch.js';
import { type StopBudget, StopClock } from './stop-clock.js';
import { startConfiguredUpstream } from './upstream-env.js';
import { UpstreamPipe } from './upstream-pipe.js';
import type { UpstreamExit, UpstreamProcess } from './upstream-process.js';

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
  /**
   * The config's upstream, already being started (startConfiguredUpstream): the stdio command spawns
   * it before it loads this session's modules, so that the upstream's start overlaps with theirs
   * (docs/performance.md#start-up). Without it the session starts the upstream itself.
   */
  upstream?: Promise<UpstreamProcess>;
}

/**
 * `spawning`: no upstream yet (a signal exits at once); `opening`: the services open; `running`;
 * `draining`: the host closed its input, answers on their way are let through, then the upstream
 * stops; `stopping`: a signal stops it at once; `ended`: the upstream has exited.
 */
export type SessionState = 'spawning' | 'opening' | 'running' | 'draining' | 'stopping' | 'ended';

/** What connectPipes made: the relay, the host side, and the stall watch over both. */
interface Pipes {
  interceptor: Interceptor;
  host: HostPipe;
  stalls: StallWatch;
}

/** How long a half-written frame may sit still before ratri says so (RATRI_STALL_WARN_MS, default 10 s). */
function stallWarnMs(): number {
  const ms = Number(process.env.RATRI_STALL_WARN_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : 10_000;
}

export class ProxySession {
  readonly sessionId = newSessionId();
  state: SessionState = 'spawning';
  private upstream: UpstreamProcess | undefined;
  private stopping: Promise<void> | undefined;
  /** Set when a stop began (the host closed its input, or a signal): it times the rest. */
  private clock: StopClock | undefined;
  private stopSignal: NodeJS.Signals | undefined;
  private pipes: Pipes | undefined;

  constructor(private readonly options: ProxySessionOptions) {}

  /** Runs until the upstream has exited; throws SpawnError when it cannot start. */
  async run(): Promise<number> {
    const upstream = await this.spawn();
    const services = await this.openServices(upstream);
    const started = Date.now();
    this.announce(services, upstream);
    const pipes = this.connectPipes(upstream, services);
    this.pipes = pipes;
    this.state = 'running';
    const exit = await upstream.exited;
    this.state = 'ended';
    return this.finish(exit, services, pipes, started);
  }

  /** The upstream starts first, so that its start-up overlaps with opening the store (docs/performance.md#start-up). */
  private async spawn(): Promise<UpstreamProcess> {
    this.upstream = await (this.options.upstream ?? startConfiguredUpstream(this.options.config));
    this.state = 'opening';
    return this.upstream;
  }

  /** The store, the sinks and telemetry; if one cannot open, the upstream is stopped again. */
  private async openServices(upstream: UpstreamProcess): Promise<SessionServices> {
    const { config, log, controlPlane, networkTransport } = this.options;
    try {
      return await SessionServices.open({ config, sessionId: this.sessionId, log, controlPlane, networkTransport });
    } catch (err) {
      await upstream.stop();
      throw err;
    }
  }

  private announce({ telemetry }: SessionServices, upstream: UpstreamProcess): void {
    const { config } = this.options;
    telemetry.emit(EventType.sessionStarted, {
      mode: config.mode,
      upstream: { command: config.upstream.command, args: config.upstream.args ?? [], pid: upstream.child.pid ?? null },
    });
  }

  /** The writers, the relay between them, and the pipes that feed it. */
  private connectPipes(upstream: UpstreamProcess, services: SessionServices): Pipes {
    const { config, hostIn, hostOut, log, recorder, originOf } = this.options;
    const child = upstream.child;
    const toHost = new FrameWriter(hostOut, config.maxFrameBytes);
    const toUpstream = new FrameWriter(child.stdin!);
    const { controlPlane, telemetry } = services;
    const interceptor = new Interceptor(
      relayPorts(
        { config, controlPlane, telemetry, sessionId: this.sessionId },
        {
          log,
          originOf,
          toUpstream: (frame, terminated) => {
            recorder?.toUpstream(frame, terminated);
            if (!toUpstream.writeFrame(frame, terminated)) hostIn.pause();
          },
          toHost: (frame) => {
            recorder?.toHost(frame, true);
            toHost.writeFrame(frame);
          },
        },
      ),
    );
    const { maxFrameBytes } = config;
    const host = new HostPipe({
      hostIn,
      hostOut,
      upstreamIn: child.stdin!,
      interceptor,
      recorder,
      maxFrameBytes,
      onGone: () => this.hostGone(),
    });
    const who = `upstream "${config.upstream.command}"`;
    const up = new UpstreamPipe({ upstreamOut: child.stdout!, hostOut, toHost, interceptor, recorder, maxFrameBytes, who, log, telemetry });
    const stalls = new StallWatch(
      [
        { who: 'the host', partialBytes: () => host.reader.partialBytes, consequence: () => 'it is forwarded only once its line ends' },
        {
          who,
          partialBytes: () => up.tap.partialBytes,
          consequence: () => (toHost.queuedFrames > 0 ? `${toHost.queuedFrames} answer(s) of ratri wait behind it` : ''),
        },
      ],
      stallWarnMs(),
      log,
    );
    return { interceptor, host, stalls };
  }

  /** The upstream has exited: what it left unanswered is answered, the end recorded, everything flushed. */
  private async finish(exit: UpstreamExit, services: SessionServices, pipes: Pipes, started: number): Promise<number> {
    const { config, log, recorder, hostIn } = this.options;
    const hostClosed = pipes.host.ended;
    pipes.stalls.stop();
    if (!hostClosed && !this.stopSignal) {
      const how = exit.code !== null ? `with code ${exit.code}` : `by signal ${exit.signal}`;
      log(`upstream "${config.upstream.command}" exited ${how}`);
    }
    pipes.interceptor.failAll(exit.code, exit.signal);
    recorder?.upstreamExited(exitCodeOf(exit));
    services.telemetry.emit(EventType.sessionEnded, {
      durationMs: Date.now() - started,
      upstreamExitCode: exit.code,
      signal: exit.signal,
      reason: this.endReason(hostClosed),
      droppedEvents: services.queue.stats.dropped,
    });
    hostIn.pause();
    // Within the stop's budget when one is under way; an upstream that exited by itself leaves more time.
    const flushMs = this.clock?.flushMs() ?? 2000;
    await services.telemetry.close(flushMs);
    await recorder?.settled();
    await services.close(this.clock?.flushMs() ?? 2000);
    if (this.stopSignal) return signalExitCode(this.stopSignal);
    if (hostClosed && exit.code === null) return 0; // we stopped it by signal after a clean host EOF
    return exitCodeOf(exit);
  }

  private endReason(hostClosed: boolean): string {
    if (this.stopSignal) return `proxy received ${this.stopSignal}`;
    if (hostClosed) return this.options.hostCloseReason?.() ?? 'host closed stdin';
    return 'upstream exited';
  }

  /**
   * The host closed its input. It may still be reading our output (a piped script does exactly
   * that), so answers already on their way are let through first: the upstream's stdin is closed
   * once every forwarded request the host did not cancel is answered, or when the budget's answer
   * time is up. Held calls end unanswered.
   */
  private hostGone(): void {
    if (this.state === 'running') this.state = 'draining';
    this.clock ??= new StopClock(this.options.stopBudget);
    const dropped = this.pipes?.interceptor.dropHeld() ?? 0;
    if (dropped > 0) this.options.log(`host closed its input; ${dropped} held call(s) dropped without an answer`);
    const answered = this.pipes?.interceptor.whenAnswered(this.clock.budget.answersMs) ?? Promise.resolve();
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
    if (this.state !== 'ended') this.state = 'stopping';
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
