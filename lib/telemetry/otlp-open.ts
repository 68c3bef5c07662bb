/**
 * Opens the OpenTelemetry sink of `telemetry.otlp` (docs/opentelemetry.md). The proxy imports this
 * file only when `telemetry.otlp` is set, so the SDK is never loaded otherwise (docs/performance.md#start-up).
 */
import type { OtlpConfig } from '../config/types.js';
import { openOtlpPipeline } from './otlp-pipeline.js';
import { OtlpSink } from './otlp-sink.js';

export interface OtlpSession {
  agentKey: string;
  environment: string;
  serverName: string;
  networkTransport: 'pipe' | 'tcp';
}

export interface OpenedOtlp {
  sink: OtlpSink;
  /** Spans ended but not accepted by the collector (so far; final once the sink is closed). */
  notExported(): number;
}

/** `onExportFailed` is called for every export the collector did not take. */
export async function openOtlpSink(
  config: OtlpConfig,
  session: OtlpSession,
  onExportFailed: (reason: string) => void,
): Promise<OpenedOtlp> {
  const resource = {
    'service.name': 'ratri',
    'deployment.environment.name': session.environment,
    'ratri.agent_key': session.agentKey,
    'ratri.server_name': session.serverName,
  };
  const pipeline = await openOtlpPipeline(config, resource, onExportFailed);
  const sink = new OtlpSink(pipeline, { config, serverName: session.serverName, networkTransport: session.networkTransport });
  return { sink, notExported: () => pipeline.counts.ended - pipeline.counts.exported };
}
