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

/** Plain counters the hot path increments; copied into Prometheus counters only when scraped. */
interface Tally {
  readonly namespace: string;
  readonly mode: string;
  requests: number;
  errors: number;
  reportedRequests: number;
  reportedErrors: number;
}

/** The proxy's Prometheus registry (one per proxy, so several proxies can live in one process). */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, Tally>();
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
    const tallies = this.tallies;
    // Request counters are plain numbers on the hot path; prom-client sees them at scrape time.
    new Counter({
      name: 'prism_plugin_requests_total',
      help: 'Calls routed to a namespace plugin',
      labelNames: ['namespace', 'mode'],
      registers: [this.registry],
      collect() {
        for (const t of tallies.values()) {
          this.labels(t.namespace, t.mode).inc(t.requests - t.reportedRequests);
          t.reportedRequests = t.requests;
        }
      },
    });
    new Counter({
      name: 'prism_plugin_request_errors_total',
      help: 'Calls routed to a namespace plugin that failed (any code)',
      labelNames: ['namespace', 'mode'],
      registers: [this.registry],
      collect() {
        for (const t of tallies.values()) {
          this.labels(t.namespace, t.mode).inc(t.errors - t.reportedErrors);
          t.reportedErrors = t.errors;
        }
      },
    });
  }

  /** Counters for one namespace (shared by its successive instances across reloads and restarts). */
  namespace(namespace: string, mode: string): NamespaceMetrics {
    const key = `${namespace}\u0000${mode}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { namespace, mode, requests: 0, errors: 0, reportedRequests: 0, reportedErrors: 0 };
      this.tallies.set(key, tally);
    }
    const t = tally;
    const up = this.up.labels(namespace, mode);
    const restarts = this.restarts.labels(namespace);
    // Series exist from the start (at 0), so dashboards and alerts see them before the first event.
    restarts.inc(0);
    return {
      requests: { inc: () => void t.requests++ },
      errors: { inc: () => void t.errors++ },
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
