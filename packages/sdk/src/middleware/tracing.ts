import { context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Call, HeaderReader, TraceContext } from '../call.js';
import { codeName } from '../errors.js';
import type { Middleware } from '../pipeline.js';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: HeaderReader, key: string) => carrier.get(key) ?? undefined,
  keys: () => ['traceparent', 'tracestate'],
};
/** The W3C trace context of a span. */
export function traceContextOf(span: Span): TraceContext {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(context.active(), span), carrier, {
    set: (c: Record<string, string>, k: string, v: string) => {
      c[k] = v;
    },
  });
  return { traceparent: carrier.traceparent ?? '', tracestate: carrier.tracestate };
}

/**
 * A server span per call, a child of the caller's `traceparent` when there is one; the call's trace
 * context becomes the span's, so the next hop (a sidecar, a backend span) continues the trace. New root
 * traces are sampled before any span is made, so unsampled calls cost one random number.
 */
export function tracing(tracer: Tracer, sampleRatio = 1): Middleware {
  return (next) => (call) => {
    const incoming = call.headers.get('traceparent');
    if (incoming === null && sampleRatio < 1 && Math.random() >= sampleRatio) return next(call);
    const parent =
      incoming === null ? context.active() : propagator.extract(context.active(), call.headers, headerGetter);
    const span = tracer.startSpan(
      call.procedure,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'rpc.system': 'connect_rpc',
          'rpc.service': call.service,
          'rpc.method': call.method.name,
          'prism.namespace': call.namespace,
          'prism.request_id': call.requestId,
          ...(call.peer ? { 'network.peer.address': call.peer } : {}),
        },
      },
      parent,
    );
    call.trace = traceContextOf(span);
    call.onEnd((err) => {
      span.setAttribute('rpc.connect_rpc.error_code', codeName(err?.code));
      if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: err.rawMessage });
      span.end();
    });
    return span.isRecording() ? context.with(trace.setSpan(parent, span), () => next(call)) : next(call);
  };
}

/**
 * A CLIENT span for a backend call, a child of the traced call running now (undefined when the call is
 * not traced: one context lookup). Adapters wrap their client library's calls with it where the library
 * does not trace by itself; end it with {@link endBackendSpan}.
 */
export function startBackendSpan(
  name: string,
  attributes: Record<string, string | number> = {},
): Span | undefined {
  if (!trace.getSpan(context.active())?.isRecording()) return undefined;
  return trace.getTracer('prism').startSpan(name, { kind: SpanKind.CLIENT, attributes });
}

/** Ends a backend span, marking it failed when `error` is given. */
export function endBackendSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined)
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  span.end();
}

/** `call.trace` as log fields (`trace_id`, `span_id`), empty when untraced. */
export function traceFields(call: Call): { trace_id?: string; span_id?: string } {
  const tp = call.trace?.traceparent;
  if (!tp) return {};
  const [, traceId, spanId] = tp.split('-');
  return { trace_id: traceId ?? '', span_id: spanId ?? '' };
}
