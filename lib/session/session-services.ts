/**
 * The services one proxy run opens besides the upstream: the control plane (the one the HTTP front
 * passes, or the one the config names; its modules, better-sqlite3 among them, are loaded here,
 * after the upstream was spawned: docs/performance.md#start-up), the JSONL file, the OpenTelemetry
 * export when `telemetry.otlp` is set (its SDK loaded only then: docs/opentelemetry.md), the event
 * queue over them, and telemetry. Closed last, within the stop's budget.
 */
import { ConfigError } from '../config/load-config.js';
import { resolveConfigPath } from '../config/paths.js';
import type { OtlpConfig, ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { secretFinder } from '../secrets/find-secrets.js';
import type { EventSink } from '../telemetry/event.js';
import { EventQueue } from '../telemetry/event-queue.js';
import { JsonlSink } from '../telemetry/jsonl-sink.js';
import type { OpenedOtlp } from '../telemetry/otlp-open.js';
import { Telemetry } from '../telemetry/telemetry.js';

export interface ServiceOptions {
  config: ProxyConfig;
  sessionId: string;
  log(message: string): void;
  /** Shared by the HTTP front's sessions: whoever passes it closes it. */
  controlPlane?: ControlPlane;
  /** For OpenTelemetry's network.transport: `pipe` (stdio, the default) or `tcp` (the HTTP front). */
  networkTransport?: 'pipe' | 'tcp';
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

export class SessionServices {
  private constructor(
    readonly controlPlane: ControlPlane,
    readonly queue: EventQueue,
    readonly telemetry: Telemetry,
    /** Whether the session opened the control plane (then it closes it). */
    private readonly owned: boolean,
    private readonly log: (message: string) => void,
    private readonly otlp: OpenedOtlp | undefined,
  ) {}

  static async open(options: ServiceOptions): Promise<SessionServices> {
    const { config, log } = options;
    // Telemetry exists only once the sinks are open: the first failed export warns through it, once.
    let warnOtlp: ((reason: string) => void) | undefined;
    const sinks = await openSinks(options, (reason) => warnOtlp?.(reason));
    // A sink that fails (a full disk) fails every batch, every 20 ms: say it once, count the rest.
    const queue = new EventQueue(eventSinks(sinks), 10_000, 500, (err) => {
      if (queue.stats.failedBatches === 1) log(`telemetry sink failed: ${err.message} (further failures are counted, not shown)`);
    });
    const telemetry = new Telemetry(
      { agentKey: config.agentKey, environment: config.environment, serverName: config.serverName, sessionId: options.sessionId },
      queue,
      config.redactKeys,
      config.secrets.redact ? secretFinder(config.secrets) : undefined,
      sinks.otlp !== undefined,
    );
    warnOtlp = onceWarning(telemetry, config.telemetry.otlp?.endpoint);
    return new SessionServices(sinks.controlPlane, queue, telemetry, !options.controlPlane, log, sinks.otlp);
  }

  /** Closes the control plane if the session opened it, and says what the queue could not write. */
  async close(flushMs: number): Promise<void> {
    if (this.owned) await this.controlPlane.close(flushMs);
    const { dropped, failedBatches } = this.queue.stats;
    if (dropped > 0) this.log(`telemetry: ${dropped} event(s) dropped (queue full)`);
    if (failedBatches > 1) this.log(`telemetry: ${failedBatches} batch(es) of events could not be written`);
    const notExported = this.otlp?.notExported() ?? 0;
    if (notExported > 0) this.log(`telemetry.otlp: ${notExported} span(s) not exported (collector unreachable or queue full)`);
  }
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

/** The OpenTelemetry sink; its SDK is loaded here, and only when `telemetry.otlp` is set. */
async function openOtlp(otlp: OtlpConfig, options: ServiceOptions, onExportFailed: (reason: string) => void): Promise<OpenedOtlp> {
  const { config } = options;
  const { openOtlpSink } = await import('../telemetry/otlp-open.js');
  const session = {
    agentKey: config.agentKey,
    environment: config.environment,
    serverName: config.serverName,
    networkTransport: options.networkTransport ?? 'pipe',
  };
  return openOtlpSink(otlp, session, onExportFailed);
}

/** The control plane, the OTLP export and the JSONL file, if any; a problem with one is a ConfigError naming the field. */
async function openSinks(options: ServiceOptions, onExportFailed: (reason: string) => void): Promise<OpenedSinks> {
  const { config } = options;
  let controlPlane = options.controlPlane;
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
  const otlp = config.telemetry.otlp ? await openOtlp(config.telemetry.otlp, options, onExportFailed) : undefined;
  if (!config.telemetry.jsonl) return { controlPlane, otlp };
  const path = resolveConfigPath(config.baseDir, config.telemetry.jsonl);
  try {
    return { controlPlane, otlp, jsonl: new JsonlSink(path) };
  } catch (err) {
    if (!options.controlPlane) await controlPlane.close(2000);
    throw new ConfigError(config.source, [`telemetry.jsonl: cannot open ${path}: ${(err as Error).message}`]);
  }
}
