import type http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { PluginMode, PrismConfig } from '@prism/config';
import { createLogger, type InterfaceDefinition, type Logger, noopMetrics } from '@prism/sdk';
import type { PluginCatalog } from './catalog.js';
import { applyCors } from './cors.js';
import { createUnaryFastPath } from './fastpath.js';
import { Health, HealthService } from './health.js';
import { KNOWN_INTERFACES } from './interfaces.js';
import { createLaunchers } from './launchers.js';
import { DualProtocolListener } from './listener.js';
import { isMetricsRequest, ProxyMetrics } from './metrics.js';
import { NamespaceTable, type PluginLauncher, startNamespaces } from './namespaces.js';
import { mountReflection } from './reflection.js';
import { Reloader, type ReloadResult } from './reload.js';
import { mountInterfaces, StreamCounter } from './router.js';

/** Options for {@link startProxy}. */
export interface ProxyOptions {
  readonly config: PrismConfig;
  /** Catalog with every backend type the config uses already loaded. */
  readonly catalog: PluginCatalog;
  readonly logger?: Logger;
  /** Overrides `proxy.listen` (0 picks a free port). */
  readonly port?: number;
  readonly host?: string;
  /** Replaces the launcher of a deployment mode. */
  readonly launchers?: Partial<Record<PluginMode, PluginLauncher>>;
  /** Interfaces to mount; defaults to every known flavour. */
  readonly interfaces?: readonly InterfaceDefinition[];
  /** The YAML file `config` came from; `reload()` re-reads it (undefined: the embedded default). */
  readonly configFile?: string;
}

/** A proxy that is serving. */
export interface RunningProxy {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:8980 */
  readonly url: string;
  readonly table: NamespaceTable;
  readonly health: HealthService;
  /** Prometheus registry served at `GET /metrics`. */
  readonly metrics: ProxyMetrics;
  /** Hot reload of the namespace YAML (SIGHUP, admin API); see {@link Reloader}. */
  reload(): Promise<ReloadResult>;
  /** Graceful shutdown: stop accepting, finish unary calls, end streams, close plugins. */
  shutdown(): Promise<void>;
}

/** Starts the namespaces' plugins, mounts every interface and listens. */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const { config, catalog } = opts;
  const logger = opts.logger ?? createLogger({ name: 'prism-proxy' });
  const interfaces = opts.interfaces ?? KNOWN_INTERFACES;
  const metrics = new ProxyMetrics();
  const launchers = { ...createLaunchers({ interfaces, metrics }), ...opts.launchers };

  const base = { catalog, logger, metrics: noopMetrics };
  const runtimes = await startNamespaces(config.namespaces, launchers, base);
  const table = new NamespaceTable(runtimes);
  const reloader = new Reloader({
    configFile: opts.configFile,
    config,
    catalog,
    table,
    launchers,
    base,
    logger,
    metrics,
  });
  const health = new HealthService(table, interfaces);
  const streams = new StreamCounter();
  const shutdownController = new AbortController();

  const connectHandler = connectNodeAdapter({
    routes: (router) => {
      mountInterfaces(router, table, interfaces, streams);
      health.mount(router);
      mountReflection(router, [...interfaces.map((i) => i.service), Health]);
    },
    readMaxBytes: config.proxy.readMaxBytes,
    // gzip only pays off for large messages; below this, compressing (when a client offers
    // grpc-accept-encoding) costs more CPU than it saves on the wire.
    compressMinBytes: 16 * 1024,
    shutdownSignal: shutdownController.signal,
  });

  // Binary unary calls skip connect-node's generic pipeline (see fastpath.ts); the rest goes through it.
  const fastPath = createUnaryFastPath(table, interfaces, config.proxy.readMaxBytes);

  let inflight = 0;
  let onIdle: (() => void) | undefined;
  const onFastStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean => {
    if (!fastPath.stream(stream, headers)) return false;
    inflight++;
    stream.once('close', () => {
      inflight--;
      onIdle?.();
    });
    return true;
  };
  const listener = new DualProtocolListener((req, res) => {
    if (isMetricsRequest(req)) {
      void metrics.serve(res);
      return;
    }
    inflight++;
    res.once('close', () => {
      inflight--;
      onIdle?.();
    });
    if (applyCors(req, res, config.proxy.cors.allowedOrigins)) return;
    if (fastPath.request(req, res)) return;
    connectHandler(req, res);
  }, onFastStream);

  const host = opts.host ?? config.proxy.listen.host;
  let port: number;
  try {
    port = await listener.listen(opts.port ?? config.proxy.listen.port, host);
  } catch (err) {
    await Promise.allSettled(runtimes.map((r) => r.handle.close()));
    throw err;
  }
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  /** Resolves when `done()` holds, re-checked whenever a request finishes, or after `ms`. */
  const waitUntil = (done: () => boolean, ms: number) =>
    new Promise<void>((resolve) => {
      const finish = () => {
        if (!done()) return;
        clearTimeout(timer);
        onIdle = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        onIdle = undefined;
        resolve();
      }, ms);
      onIdle = finish;
      finish();
    });

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () => {
    shutdownPromise ??= (async () => {
      const deadline = config.proxy.shutdownTimeoutMs;
      health.setShuttingDown();
      listener.stopAccepting();
      // Unary calls finish normally; streams (subscriptions) never end on their own, so they are
      // ended with UNAVAILABLE once only they remain, and clients resubscribe to another replica.
      await waitUntil(() => inflight <= streams.active, deadline);
      shutdownController.abort(new ConnectError('proxy is shutting down', Code.Unavailable));
      await waitUntil(() => inflight === 0, Math.min(deadline, 2000));
      listener.destroyAll();
      await Promise.allSettled(table.runtimes().map((r) => r.handle.close()));
      logger.info('proxy stopped');
    })();
    return shutdownPromise;
  };

  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    table,
    health,
    metrics,
    reload: () => reloader.reload(),
    shutdown,
  };
}
