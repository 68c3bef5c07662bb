/**
 * The OpenTelemetry SDK pieces behind `telemetry.otlp` (docs/opentelemetry.md): a tracer provider
 * with a BatchSpanProcessor (a bounded queue, exported in the background, never on the data path)
 * and a meter provider with a periodic reader, both exporting OTLP over HTTP (http/json or
 * http/protobuf). Spans the collector did not take (down, refusing, or the queue full) are counted.
 * This file is loaded only when `telemetry.otlp` is configured: a proxy without it never loads the SDK.
 */
import type { Counter, Histogram } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
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
  /** Gives the next span started the ids chosen before (`use`), else random ones. */
  ids: ChosenIds;
  meterProvider: MeterProvider;
  /** Spans ended, and spans the collector accepted. */
  readonly counts: { ended: number; exported: number };
  /** Exports what is queued and stops; never rejects. */
  shutdown(): Promise<void>;
}

/**
 * Opens the pipeline; `resource`: the attributes of its resource (who exports: a proxy, or `ratri serve`).
 * `onExportFailed` is called for every export the collector did not take.
 */
export async function openOtlpPipeline(
  config: OtlpConfig,
  resource: Record<string, string>,
  onExportFailed: (reason: string) => void,
): Promise<OtlpPipeline> {
  const base = config.endpoint.replace(/\/+$/, '');
  const options = (path: string) => ({ url: `${base}${path}`, headers: config.headers ?? {}, timeoutMillis: EXPORT_TIMEOUT_MS });
  const [spanExporter, metricExporter] = await exportersFor(config.protocol ?? 'http/protobuf', options);
  const counts = { ended: 0, exported: 0 };
  const processor = new BatchSpanProcessor(countingExporter(spanExporter, counts, onExportFailed), {
    maxQueueSize: SPAN_QUEUE_SIZE,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 1000,
  });
  const ids = new ChosenIds();
  const attributes = resourceFromAttributes(resource);
  const tracerProvider = new BasicTracerProvider({ resource: attributes, spanProcessors: [processor], idGenerator: ids });
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 30_000 });
  const meterProvider = new MeterProvider({ resource: attributes, readers: [reader] });
  return {
    tracerProvider,
    ids,
    meterProvider,
    counts,
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** The two instruments a proxy and `ratri serve` record with (docs/opentelemetry.md#metrics). */
export interface RatriInstruments {
  /** `mcp.server.operation.duration`, in seconds. */
  duration: Histogram;
  /** `ratri.guardrail.decisions`. */
  decisions: Counter;
}

export function ratriInstruments(pipeline: OtlpPipeline): RatriInstruments {
  const meter = pipeline.meterProvider.getMeter('ratri');
  return {
    duration: meter.createHistogram('mcp.server.operation.duration', {
      unit: 's',
      description: 'Duration of the MCP request or notification as observed by ratri',
      advice: { explicitBucketBoundaries: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] },
    }),
    decisions: meter.createCounter('ratri.guardrail.decisions', { description: 'Guardrail decisions on tool calls' }),
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

/**
 * Span ids chosen before the span is made: a proxy picks its call's span ids when it asks the
 * control plane, so that the control plane's span can name it as its parent
 * (docs/opentelemetry.md#across-the-control-plane); the span is made when the call ends.
 */
export class ChosenIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private next: { traceId: string; spanId: string } | undefined;

  /** The ids of the next span started (span starts are synchronous: nothing else starts one between). */
  use(traceId: string, spanId: string): void {
    this.next = { traceId, spanId };
  }

  generateSpanId(): string {
    return this.next?.spanId ?? this.random.generateSpanId();
  }

  /** Asked only for a span without a parent, after its span id: the chosen ids are used up here or by `forget`. */
  generateTraceId(): string {
    const chosen = this.next?.traceId;
    this.next = undefined;
    return chosen ?? this.random.generateTraceId();
  }

  forget(): void {
    this.next = undefined;
  }
}
