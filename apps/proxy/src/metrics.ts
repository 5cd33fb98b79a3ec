import type http from 'node:http';
import type http2 from 'node:http2';
import type { DescMethod } from '@bufbuild/protobuf';
import {
  type Call,
  codeName,
  createPromMetrics,
  LATENCY_BUCKETS,
  type Middleware,
  type PluginMetrics,
} from '@prism/sdk';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';

/** A process's metrics in prom-client's JSON form (what `getMetricsAsJSON` returns). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type MetricJson = MetricsJson[number];

/** The per-namespace plugin series the supervisor keeps up to date. */
export interface NamespaceMetrics {
  readonly restarts: { inc(): void };
  /** 1 while the plugin serves, 0 while it is down (restarting). */
  setUp(up: boolean): void;
}

/** Something whose metrics are merged into the proxy's at scrape time (an out-of-process plugin). */
export interface MetricsSource {
  /** Identifies the process, so a plugin server hosting several namespaces is read once. */
  readonly key: string;
  /** prom-client JSON of the process's metrics; may reject (then it is left out of this scrape). */
  read(): Promise<MetricsJson>;
}

/**
 * Per (namespace, interface, method): plain numbers the hot path bumps. prom-client hashes its labels on
 * every update (about a microsecond for four updates a call); here a call costs a few additions, and
 * the registry reads the tallies only when scraped.
 */
interface Series {
  readonly labels: Readonly<Record<'namespace' | 'interface' | 'method', string>>;
  /** Per code: answered calls, latency bucket counts (one per bound, then +Inf) and their sum. */
  readonly codes: Map<string, { count: number; sum: number; buckets: Float64Array }>;
  inflight: number;
  streams: number;
}

/** A prom-client metric read from the tallies at scrape time. */
function tallyMetric(
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  values: () => MetricJson['values'],
): { name: string; get(): Promise<MetricJson> } {
  return {
    name,
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }) as unknown as MetricJson,
  };
}

/** The proxy's Prometheus registry (one per proxy, so several proxies can live in one process). */
export class ProxyMetrics {
  readonly registry = new Registry();
  /** Adapter metrics of in-process namespaces (`prism_<name>`, see the adapters' READMEs). */
  readonly plugins: PluginMetrics = createPromMetrics(this.registry);
  private readonly sources = new Map<object, () => MetricsSource | undefined>();
  private readonly series = new Map<DescMethod, Map<string, Series>>();
  private readonly restarts = new Counter({
    name: 'prism_plugin_restarts_total',
    help: 'Times a namespace plugin was restarted (sidecar crash, remote plugin lost its instance)',
    labelNames: ['namespace'],
    registers: [this.registry],
  });
  private readonly up = new Gauge({
    name: 'prism_plugin_up',
    help: '1 while the namespace plugin serves, 0 while it is down',
    labelNames: ['namespace', 'mode'],
    registers: [this.registry],
  });
  private readonly reloads = new Counter({
    name: 'prism_config_reloads_total',
    help: 'Config reloads by result (ok, invalid, failed)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor() {
    const all = () => [...this.series.values()].flatMap((m) => [...m.values()]);
    const perCode = (read: (t: { count: number; sum: number }) => number) => () =>
      all().flatMap((s) =>
        [...s.codes].map(([code, t]) => ({ labels: { ...s.labels, code }, value: read(t) })),
      );
    const gauge = (read: (s: Series) => number) => () =>
      all().map((s) => ({ labels: s.labels, value: read(s) }));
    const register = (m: ReturnType<typeof tallyMetric>) =>
      this.registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
    register(
      tallyMetric(
        'prism_requests_total',
        'Calls answered, by namespace, interface, method and Connect code',
        'counter',
        perCode((t) => t.count),
      ),
    );
    register(
      tallyMetric(
        'prism_request_duration_seconds',
        'Time from a call entering the pipeline to its answer (unary) or its end (streams)',
        'histogram',
        () =>
          all().flatMap((s) =>
            [...s.codes].flatMap(([code, t]) => {
              const labels = { ...s.labels, code };
              let cumulative = 0;
              const buckets = [...LATENCY_BUCKETS, '+Inf' as const].map((le, i) => {
                cumulative += t.buckets[i] ?? 0;
                return {
                  labels: { ...labels, le },
                  value: cumulative,
                  metricName: 'prism_request_duration_seconds_bucket',
                };
              });
              return [
                ...buckets,
                { labels, value: t.sum, metricName: 'prism_request_duration_seconds_sum' },
                { labels, value: t.count, metricName: 'prism_request_duration_seconds_count' },
              ];
            }),
          ),
      ),
    );
    register(
      tallyMetric(
        'prism_requests_in_flight',
        'Calls being served right now (streams included)',
        'gauge',
        gauge((s) => s.inflight),
      ),
    );
    register(
      tallyMetric(
        'prism_streams_open',
        'Server streams (subscriptions, reads) open right now',
        'gauge',
        gauge((s) => s.streams),
      ),
    );
  }

  /** Series for one namespace's plugin (shared by its successive instances across reloads and restarts). */
  namespace(namespace: string, mode: string): NamespaceMetrics {
    const up = this.up.labels(namespace, mode);
    const restarts = this.restarts.labels(namespace);
    // Series exist from the start (at 0), so dashboards and alerts see them before the first event.
    restarts.inc(0);
    return { restarts, setUp: (value) => up.set(value ? 1 : 0) };
  }

  /**
   * The request metrics middleware. `known` bounds the namespace label to configured namespaces (a
   * client naming random namespaces must not create series).
   */
  middleware(known: (namespace: string) => boolean): Middleware {
    return (next) => (call) => {
      const s = this.seriesOf(call, known);
      const t0 = performance.now();
      const streaming = call.kind === 'server_streaming';
      s.inflight++;
      if (streaming) s.streams++;
      call.onEnd((err) => {
        const seconds = (performance.now() - t0) / 1000;
        s.inflight--;
        if (streaming) s.streams--;
        const code = codeName(err?.code);
        let t = s.codes.get(code);
        if (!t) {
          t = { count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) };
          s.codes.set(code, t);
        }
        t.count++;
        t.sum += seconds;
        let i = 0;
        while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
        t.buckets[i] = (t.buckets[i] ?? 0) + 1;
      });
      return next(call);
    };
  }

  private seriesOf(call: Call, known: (namespace: string) => boolean): Series {
    const namespace = known(call.namespace) ? call.namespace : '(unknown)';
    // Keyed by the method descriptor, then the namespace: two map lookups, no key string per call.
    let byNamespace = this.series.get(call.method);
    if (!byNamespace) {
      byNamespace = new Map();
      this.series.set(call.method, byNamespace);
    }
    let s = byNamespace.get(namespace);
    if (!s) {
      s = {
        labels: { namespace, interface: call.definition.name, method: call.method.name },
        codes: new Map(),
        inflight: 0,
        streams: 0,
      };
      byNamespace.set(namespace, s);
    }
    return s;
  }

  /**
   * Merges an out-of-process plugin's metrics into every scrape (the getter returns `undefined` while
   * there is nothing to read) until {@link removeSource}.
   */
  addSource(owner: object, source: () => MetricsSource | undefined): void {
    this.sources.set(owner, source);
  }

  removeSource(owner: object): void {
    this.sources.delete(owner);
  }

  reloaded(result: 'ok' | 'invalid' | 'failed'): void {
    this.reloads.labels(result).inc();
  }

  /** The exposition text: the proxy's own metrics plus every plugin process's (read with a short timeout). */
  async text(): Promise<{ contentType: string; body: string }> {
    const seen = new Set<string>();
    const reads: Promise<MetricsJson>[] = [];
    for (const get of this.sources.values()) {
      const source = get();
      if (!source || seen.has(source.key)) continue;
      seen.add(source.key);
      reads.push(source.read().catch(() => []));
    }
    if (reads.length === 0)
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    const own = await this.registry.getMetricsAsJSON();
    const others = (await Promise.all(reads)).filter((m) => m.length > 0);
    // prom-client's own merge (made for cluster workers): series with distinct labels are kept apart.
    const merged = AggregatorRegistry.aggregate([own, ...others]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** Answers `GET /metrics` in the Prometheus text format. */
  async serve(res: http.ServerResponse | http2.Http2ServerResponse): Promise<void> {
    const { contentType, body } = await this.text();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  }
}

/** True for the metrics scrape request (checked before Connect routing; cheap string compares). */
export function isMetricsRequest(req: { method?: string | undefined; url?: string | undefined }): boolean {
  return req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?') === true);
}
