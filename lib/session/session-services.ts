/**
 * The services one proxy run opens besides the upstream: the control plane (the one the HTTP front
 * passes, or the one the config names; its modules, better-sqlite3 among them, are loaded here,
 * after the upstream was spawned: docs/performance.md#start-up), the JSONL file, the event queue
 * over both, and telemetry. Closed last, within the stop's budget.
 */
import { ConfigError } from '../config/load-config.js';
import { resolveConfigPath } from '../config/paths.js';
import type { ProxyConfig } from '../config/types.js';
import type { ControlPlane } from '../control/control-plane.js';
import { secretFinder } from '../secrets/find-secrets.js';
import { EventQueue } from '../telemetry/event-queue.js';
import { JsonlSink } from '../telemetry/jsonl-sink.js';
import { Telemetry } from '../telemetry/telemetry.js';

export interface ServiceOptions {
  config: ProxyConfig;
  sessionId: string;
  log(message: string): void;
  /** Shared by the HTTP front's sessions: whoever passes it closes it. */
  controlPlane?: ControlPlane;
}

export class SessionServices {
  private constructor(
    readonly controlPlane: ControlPlane,
    readonly queue: EventQueue,
    readonly telemetry: Telemetry,
    /** Whether the session opened the control plane (then it closes it). */
    private readonly owned: boolean,
    private readonly log: (message: string) => void,
  ) {}

  static async open(options: ServiceOptions): Promise<SessionServices> {
    const { config, log } = options;
    const sinks = await openSinks(options);
    // A sink that fails (a full disk) fails every batch, every 20 ms: say it once, count the rest.
    const queue = new EventQueue(
      sinks.jsonl ? [sinks.controlPlane.events, sinks.jsonl] : [sinks.controlPlane.events],
      10_000,
      500,
      (err) => {
        if (queue.stats.failedBatches === 1) log(`telemetry sink failed: ${err.message} (further failures are counted, not shown)`);
      },
    );
    const telemetry = new Telemetry(
      { agentKey: config.agentKey, environment: config.environment, serverName: config.serverName, sessionId: options.sessionId },
      queue,
      config.redactKeys,
      config.secrets.redact ? secretFinder(config.secrets) : undefined,
    );
    return new SessionServices(sinks.controlPlane, queue, telemetry, !options.controlPlane, log);
  }

  /** Closes the control plane if the session opened it, and says what the queue could not write. */
  async close(flushMs: number): Promise<void> {
    if (this.owned) await this.controlPlane.close(flushMs);
    const { dropped, failedBatches } = this.queue.stats;
    if (dropped > 0) this.log(`telemetry: ${dropped} event(s) dropped (queue full)`);
    if (failedBatches > 1) this.log(`telemetry: ${failedBatches} batch(es) of events could not be written`);
  }
}

/** The control plane and the JSONL file, if any; a problem with either is a ConfigError naming the field. */
async function openSinks(options: ServiceOptions): Promise<{ controlPlane: ControlPlane; jsonl?: JsonlSink }> {
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
  if (!config.telemetry.jsonl) return { controlPlane };
  const path = resolveConfigPath(config.baseDir, config.telemetry.jsonl);
  try {
    return { controlPlane, jsonl: new JsonlSink(path) };
  } catch (err) {
    if (!options.controlPlane) await controlPlane.close(2000);
    throw new ConfigError(config.source, [`telemetry.jsonl: cannot open ${path}: ${(err as Error).message}`]);
  }
}
