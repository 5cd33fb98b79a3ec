import type http from 'node:http';
import type http2 from 'node:http2';
import { Counter, Gauge, Registry } from 'prom-client';

/** Counters of one namespace's plugin, bound once so the hot path only increments. */
export interface NamespaceMetrics {
  readonly requests: { inc(): void };
  readonly errors: { inc(): void };
  readonly restarts: { inc(): void };
  /** 1 while the plugin serves, 0 while it is down (restarting). */
  setUp(up: boolean): void;
}

/** The proxy's Prometheus registry (one per proxy, so several proxies can live in one process). */
export class ProxyMetrics {
  readonly registry = new Registry();
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
  private readonly requests = new Counter({
    name: 'prism_plugin_requests_total',
    help: 'Calls routed to a namespace plugin',
    labelNames: ['namespace', 'mode'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'prism_plugin_request_errors_total',
    help: 'Calls routed to a namespace plugin that failed (any code)',
    labelNames: ['namespace', 'mode'],
    registers: [this.registry],
  });
  private readonly reloads = new Counter({
    name: 'prism_config_reloads_total',
    help: 'Config reloads by result (ok, invalid, failed)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  /** Pre-bound children for one namespace. */
  namespace(namespace: string, mode: string): NamespaceMetrics {
    const up = this.up.labels(namespace, mode);
    const restarts = this.restarts.labels(namespace);
    const errors = this.errors.labels(namespace, mode);
    // Series exist from the start (at 0), so dashboards and alerts see them before the first event.
    restarts.inc(0);
    errors.inc(0);
    return {
      requests: this.requests.labels(namespace, mode),
      errors,
      restarts,
      setUp: (value) => up.set(value ? 1 : 0),
    };
  }

  reloaded(result: 'ok' | 'invalid' | 'failed'): void {
    this.reloads.labels(result).inc();
  }

  /** Answers `GET /metrics` in the Prometheus text format. */
  async serve(res: http.ServerResponse | http2.Http2ServerResponse): Promise<void> {
    const body = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(body);
  }
}

/** True for the metrics scrape request (checked before Connect routing; cheap string compares). */
export function isMetricsRequest(req: { method?: string | undefined; url?: string | undefined }): boolean {
  return req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?') === true);
}
