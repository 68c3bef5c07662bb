/**
 * A local OTLP/HTTP receiver for tests: takes what an OpenTelemetry exporter posts to /v1/traces
 * and /v1/metrics on a real socket, keeps the raw bodies, and decodes the http/json ones.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';

export interface Received {
  path: string;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

export class OtlpReceiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const contentType = String(req.headers['content-type'] ?? '');
        this.received.push({ path: req.url ?? '', contentType, headers: req.headers, body: Buffer.concat(chunks) });
        const json = contentType.includes('json');
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : '');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Every span of every http/json trace export, attributes flattened to plain values. */
  spans(): OtlpSpan[] {
    const out: OtlpSpan[] = [];
    for (const r of this.received.filter((x) => x.path === '/v1/traces' && x.contentType.includes('json'))) {
      const body = JSON.parse(r.body.toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: any[] }> }> };
      for (const rs of body.resourceSpans)
        for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push({ ...s, attributes: flatten(s.attributes) });
    }
    return out;
  }

  /** Every metric of every http/json metrics export, by name (the last export's data). */
  metrics(): Map<string, any> {
    const out = new Map<string, any>();
    for (const r of this.received.filter((x) => x.path === '/v1/metrics' && x.contentType.includes('json'))) {
      const body = JSON.parse(r.body.toString('utf8')) as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: any[] }> }> };
      for (const rm of body.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
    }
    return out;
  }
}

/** OTLP/JSON key-value list → object. */
export function flatten(attributes: Array<{ key: string; value: Record<string, unknown> }> = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of attributes) {
    const v = value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
    out[key] = v;
  }
  return out;
}

/** A port nothing listens on (bound, then closed): a collector that is away. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
