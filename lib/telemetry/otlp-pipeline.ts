/**
 * The OpenTelemetry SDK pieces behind `telemetry.otlp` (docs/opentelemetry.md): a tracer provider
 * with a BatchSpanProcessor (a bounded queue, exported in the background, never on the data path)
 * and a meter provider with a periodic reader, both exporting OTLP over HTTP (http/json or
 * http/protobuf). Spans the collector did not take (down, refusing, or the queue full) are counted.
 * This file is loaded only when `telemetry.otlp` is configured: a proxy without it never loads the SDK.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpConfig } from '../config/types.js';

/** What an exporter reports of one export (0: accepted), as @opentelemetry/core's ExportResult. */
interface ExportResult {
  code: number;
  error?: Error;
}

/** How long one export may take, retries included (an export to a collector that is away retries until then). */
const EXPORT_TIMEOUT_MS = 3000;

/** Spans waiting for export at most; more are dropped (and counted). */
export const SPAN_QUEUE_SIZE = 2048;

export interface OtlpPipeline {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  /** Spans ended, and spans the collector accepted. */
  readonly counts: { ended: number; exported: number };
  /** Exports what is queued and stops; never rejects. */
  shutdown(): Promise<void>;
}

export interface PipelineIdentity {
  agentKey: string;
  environment: string;
  serverName: string;
}

export async function openOtlpPipeline(
  config: OtlpConfig,
  identity: PipelineIdentity,
  onExportFailed: (reason: string) => void,
): Promise<OtlpPipeline> {
  const base = config.endpoint.replace(/\/+$/, '');
  const options = (path: string) => ({ url: `${base}${path}`, headers: config.headers ?? {}, timeoutMillis: EXPORT_TIMEOUT_MS });
  const [spanExporter, metricExporter] = await exportersFor(config.protocol ?? 'http/protobuf', options);
  const counts = { ended: 0, exported: 0 };
  const resource = resourceFromAttributes({
    'service.name': 'ratri',
    'deployment.environment.name': identity.environment,
    'ratri.agent_key': identity.agentKey,
    'ratri.server_name': identity.serverName,
  });
  const processor = new BatchSpanProcessor(countingExporter(spanExporter, counts, onExportFailed), {
    maxQueueSize: SPAN_QUEUE_SIZE,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 1000,
  });
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 30_000 });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    counts,
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

type ExporterOptions = (path: string) => { url: string; headers: Record<string, string>; timeoutMillis: number };

async function exportersFor(protocol: OtlpConfig['protocol'], options: ExporterOptions): Promise<[SpanExporter, PushMetricExporter]> {
  const temporality = { temporalityPreference: AggregationTemporality.CUMULATIVE };
  if (protocol === 'http/json') {
    const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ]);
    return [new OTLPTraceExporter(options('/v1/traces')), new OTLPMetricExporter({ ...options('/v1/metrics'), ...temporality })];
  }
  const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/exporter-metrics-otlp-proto'),
  ]);
  return [new OTLPTraceExporter(options('/v1/traces')), new OTLPMetricExporter({ ...options('/v1/metrics'), ...temporality })];
}

/** The exporter, counting the spans it was given to end and those the collector accepted. */
function countingExporter(
  inner: SpanExporter,
  counts: { ended: number; exported: number },
  onExportFailed: (reason: string) => void,
): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      inner.export(spans, (result) => {
        if (result.code === 0) counts.exported += spans.length;
        else onExportFailed(result.error?.message ?? 'export failed');
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}
