import { context, type Tracer, trace } from '@opentelemetry/api';

/** Where and how much to trace. */
export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  readonly otlpEndpoint: string;
  /** Share of new traces recorded, 0–1 (a caller's sampled `traceparent` is always followed). */
  readonly sampleRatio: number;
  /** `service.name` of the exported spans. */
  readonly serviceName?: string;
}

/** A running tracer provider: its tracer, and flush/shutdown of the exporter. */
export interface Tracing {
  readonly tracer: Tracer;
  readonly sampleRatio: number;
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing: spans are batched and exported over OTLP/HTTP (protobuf). The provider
 * is also registered globally, so adapters can make child spans with `@opentelemetry/api`.
 */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  // Loaded only when tracing is on: the SDK and exporter add ~200 ms to a cold start otherwise.
  const [{ AsyncLocalStorageContextManager }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/exporter-trace-otlp-proto'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace'),
    ]);
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } = sdk;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'prism-proxy' }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: opts.otlpEndpoint }),
        scheduledDelayMillis: 500,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  // A traced call's span is the active context while its handler runs, so backend spans find their parent.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    tracer: provider.getTracer('prism'),
    sampleRatio: opts.sampleRatio,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
