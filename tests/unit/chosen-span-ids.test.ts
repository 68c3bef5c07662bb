/**
 * A proxy chooses its span's ids for a call before it asks the control plane (so the control
 * plane's span can name it as parent) and makes the span when the call ends
 * (docs/opentelemetry.md#across-the-control-plane): childTraceparent makes the ids, and the
 * pipeline's ChosenIds gives them to the next span started, with the real SDK tracer.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { childTraceparent, parseTraceparent } from '../../lib/jsonrpc/trace-context.js';
import { ChosenIds } from '../../lib/telemetry/otlp-pipeline.js';

const HOST = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

describe('childTraceparent', () => {
  it("keeps the parent's trace and flags, with a new span id", () => {
    const child = parseTraceparent(childTraceparent(HOST))!;
    expect(child.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(child.traceFlags).toBe(0);
    expect(child.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('starts a new sampled trace without a valid parent', () => {
    for (const parent of [undefined, '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'junk']) {
      const made = childTraceparent(parent);
      expect(made).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(parseTraceparent(made)).toBeDefined();
    }
    expect(childTraceparent(undefined)).not.toBe(childTraceparent(undefined));
  });
});

describe('ChosenIds', () => {
  const ids = new ChosenIds();
  const tracer = new BasicTracerProvider({ idGenerator: ids }).getTracer('t');

  it('gives the chosen ids to the next span, and random ones after it', () => {
    ids.use('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331');
    const root = tracer.startSpan('root', {}, ROOT_CONTEXT);
    expect(root.spanContext()).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    ids.forget();
    const next = tracer.startSpan('next', {}, ROOT_CONTEXT);
    expect(next.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(next.spanContext().spanId).not.toBe('b7ad6b7169203331');
  });

  it("under a parent: the parent's trace, the chosen span id", () => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    ids.use('4bf92f3577b34da6a3ce929d0e0e4736', 'b7ad6b7169203331');
    const span = tracer.startSpan('child', {}, parent);
    ids.forget();
    expect(span.spanContext()).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'b7ad6b7169203331' });
    expect(tracer.startSpan('after', {}, parent).spanContext().spanId).not.toBe('b7ad6b7169203331');
  });
});
