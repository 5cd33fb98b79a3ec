import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { DEFAULT_ADMIN_LISTEN, type PluginMode, type PrismConfig } from '@prism/config';
import {
  CLIENT_CERTIFICATE,
  clientCertificateOf,
  clientInputErrors,
  createLogger,
  createUnaryServer,
  type InterfaceDefinition,
  type Logger,
  type Middleware,
  mountPipeline,
  PEER_ADDRESS,
  Pipeline,
  socketOf,
  startTracing,
  strictJsonOptions,
} from '@prism/sdk';
import { consoleRoutes } from './admin/console.js';
import { type AdminListener, startAdminListener } from './admin/listener.js';
import { createAdminService } from './admin/service.js';
import type { PluginCatalog } from './catalog.js';
import { applyCors } from './cors.js';
import type { BackendRetryOptions } from './degraded.js';
import { createDrain, type DrainReport, drainedStreams } from './drain.js';
import { Health, HealthService } from './health.js';
import { KNOWN_INTERFACES } from './interfaces.js';
import { createLaunchers } from './launchers.js';
import { DualProtocolListener } from './listener.js';
import { collectGarbageSoon } from './memory.js';
import { isMetricsRequest, ProxyMetrics } from './metrics.js';
import { NamespaceTable, type PluginLauncher, startNamespaces } from './namespaces.js';
import { proxyMiddleware } from './pipeline.js';
import { mountReflection } from './reflection.js';
import { Reloader, type ReloadResult } from './reload.js';
import { createRouter } from './router.js';
import { createSecurity } from './security/setup.js';

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
  /** Extra middleware, run for every call after the built-in ones (see pipeline.ts). */
  readonly middleware?: readonly Middleware[];
  /** Backoff of namespaces whose backend was unreachable at start (default 500 ms doubling to 30 s, jittered). */
  readonly backendRetry?: BackendRetryOptions;
  /**
   * Overrides the port of `proxy.admin.listen` (0 picks a free port); without `proxy.admin`, serves the
   * admin API on 127.0.0.1 at this port. `false`: no admin listener whatever the config says.
   */
  readonly adminPort?: number | false;
  /**
   * Called after the admin API's Drain with `exit` has answered; it should shut down and end the process
   * (prism-proxy exits 0). Default: {@link RunningProxy.shutdown}.
   */
  readonly onExit?: () => void;
}

/** A proxy that is serving. */
export interface RunningProxy {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:8980 (https with `proxy.tls`). */
  readonly url: string;
  /** URL of the separate `/metrics` listener (`proxy.metrics.listen`), when there is one. */
  readonly metricsUrl?: string | undefined;
  /** Base URL of the admin API (`prism.admin.v1.AdminService`, `proxy.admin.listen`), when there is one. */
  readonly adminUrl?: string | undefined;
  readonly table: NamespaceTable;
  readonly health: HealthService;
  /** Prometheus registry served at `GET /metrics`. */
  readonly metrics: ProxyMetrics;
  /** The chain every call runs through. */
  readonly pipeline: Pipeline;
  /**
   * Hot reload (SIGHUP, admin API): the namespace YAML (see {@link Reloader}), the TLS certificates (new
   * handshakes get them; open connections keep theirs) and the audit file (reopened after rotation).
   */
  reload(): Promise<ReloadResult>;
  /**
   * Takes the client port out of service (the admin API's Drain): health NOT_SERVING, no new connections,
   * unary calls finish (up to `timeoutMs`, default `shutdown_timeout_ms`), then streams end with
   * UNAVAILABLE. Plugins and the admin listener stay up. Once only; later calls return the first report.
   */
  drain(timeoutMs?: number): Promise<DrainReport>;
  /** Graceful shutdown: drain, then close plugins and listeners. */
  shutdown(): Promise<void>;
}

/** Starts the namespaces' plugins, mounts every interface and listens. */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const startedAt = new Date();
  const { config, catalog } = opts;
  const logger = opts.logger ?? createLogger({ name: 'prism-proxy' });
  const interfaces = opts.interfaces ?? KNOWN_INTERFACES;
  const metrics = new ProxyMetrics();
  const traceConfig = config.proxy.tracing;
  const tracing = traceConfig
    ? await startTracing({ otlpEndpoint: traceConfig.otlpEndpoint, sampleRatio: traceConfig.sampleRatio })
    : undefined;
  // Sidecars export their spans to the same place; they follow the proxy's sampling decision.
  const sidecarEnv: Record<string, string> = traceConfig
    ? {
        PRISM_OTLP_ENDPOINT: traceConfig.otlpEndpoint,
        PRISM_TRACE_SAMPLE_RATIO: String(traceConfig.sampleRatio),
      }
    : {};
  const launchers = {
    ...createLaunchers({ interfaces, metrics, sidecarEnv, readMaxBytes: config.proxy.readMaxBytes }),
    ...opts.launchers,
  };

  const security = createSecurity(config, logger);
  const base = { catalog, logger, metrics: metrics.plugins };
  // A namespace whose backend is down answers UNAVAILABLE and keeps starting, unless require_all_backends.
  const start = {
    degraded: !config.proxy.requireAllBackends,
    ...(opts.backendRetry ? { retry: opts.backendRetry } : {}),
  };
  const runtimes = await startNamespaces(config.namespaces, launchers, base, start);
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
    start,
  });
  const health = new HealthService(table, interfaces);
  const shutdownController = new AbortController();
  // connect-node links every call's signal to this one while the call runs: many concurrent streams are
  // many listeners, not a leak (each is removed when its call ends).
  setMaxListeners(0, shutdownController.signal);
  const pipeline = new Pipeline(
    proxyMiddleware({
      config,
      table,
      metrics,
      logger,
      tracing,
      auth: security.auth,
      audit: security.audit,
      extra: [...(opts.middleware ?? []), drainedStreams(shutdownController.signal)],
    }),
    createRouter(table),
  );

  const connectHandler = connectNodeAdapter({
    routes: (router) => {
      mountPipeline(router, interfaces, pipeline);
      health.mount(router);
      mountReflection(router, [...interfaces.map((i) => i.service), Health]);
    },
    contextValues: (req) =>
      createContextValues()
        .set(PEER_ADDRESS, req.socket?.remoteAddress)
        .set(CLIENT_CERTIFICATE, clientCertificateOf(socketOf(req))),
    readMaxBytes: config.proxy.readMaxBytes,
    interceptors: [clientInputErrors],
    jsonOptions: strictJsonOptions,
    // gzip only pays off for large messages; below this, compressing (when a client offers
    // grpc-accept-encoding) costs more CPU than it saves on the wire.
    compressMinBytes: 16 * 1024,
    shutdownSignal: shutdownController.signal,
  });

  // Binary unary calls are decoded and answered on the wire (the SDK's unary server), skipping
  // connect-node's generic path; both run the same pipeline. PRISM_FAST_PATH=0 turns it off (comparisons).
  const fastPath =
    process.env.PRISM_FAST_PATH === '0'
      ? undefined
      : createUnaryServer(interfaces, (call) => pipeline.unary(call), {
          readMaxBytes: config.proxy.readMaxBytes,
          maxInflightBytes: config.proxy.connections.maxInflightRequestBytes,
          onLargeDrain: collectGarbageSoon,
        });
  const listener = new DualProtocolListener(
    (req, res) => {
      if (isMetricsRequest(req)) {
        security.guard(req, res, () => void metrics.serve(res));
        return;
      }
      if (applyCors(req, res, config.proxy.cors.allowedOrigins)) return;
      if (fastPath?.request(req, res)) return;
      connectHandler(req, res);
    },
    fastPath && ((stream, headers) => fastPath.stream(stream, headers)),
    security.tls,
    config.proxy.connections,
  );
  // `/metrics` on its own listener (e.g. 127.0.0.1:9464) for scrapers: no auth, bind it privately.
  const metricsListen = config.proxy.metrics.listen;
  const metricsServer =
    metricsListen &&
    http.createServer((req, res) => {
      if (isMetricsRequest(req)) void metrics.serve(res);
      else res.writeHead(404).end();
    });

  const host = opts.host ?? config.proxy.listen.host;
  const drain = createDrain({
    health,
    listener,
    pipeline,
    endCalls: (reason) => shutdownController.abort(reason),
    defaultTimeoutMs: config.proxy.shutdownTimeoutMs,
  });
  // Late-bound: Drain with exit shuts down, which is defined below.
  let exitAfterDrain: () => void = () => {};
  const adminListen =
    opts.adminPort === false
      ? undefined
      : opts.adminPort === undefined
        ? config.proxy.admin?.listen
        : { host: config.proxy.admin?.listen.host ?? DEFAULT_ADMIN_LISTEN.host, port: opts.adminPort };
  let port: number;
  let metricsUrl: string | undefined;
  let admin: AdminListener | undefined;
  try {
    port = await listener.listen(opts.port ?? config.proxy.listen.port, host);
    if (metricsServer && metricsListen) {
      await new Promise<void>((resolve, reject) => {
        metricsServer.once('error', reject).listen(metricsListen.port, metricsListen.host, resolve);
      });
      const bound = (metricsServer.address() as net.AddressInfo).port;
      metricsUrl = `http://${urlHostOf(metricsListen.host)}:${bound}/metrics`;
    }
    if (adminListen)
      admin = await startAdminListener({
        ...adminListen,
        service: createAdminService({
          table,
          interfaces,
          configFile: config.file,
          startedAt,
          reload: () => reload(),
          recreate: (namespace) => reloader.restart(namespace),
          drain: (timeoutMs) => drain(timeoutMs),
          exit: () => exitAfterDrain(),
        }),
        health,
        guard: { auth: security.auth, adminToken: config.proxy.adminToken },
        audit: security.audit,
        tls: security.tls,
        limits: config.proxy.connections,
        // The web console (/console), /metrics and the client interfaces on the same pipeline.
        httpRoutes: consoleRoutes({
          interfaces,
          pipeline,
          metrics,
          guardMetrics: security.guard,
          health,
          readMaxBytes: config.proxy.readMaxBytes,
          shutdownSignal: shutdownController.signal,
        }),
      });
  } catch (err) {
    listener.tcp.close();
    metricsServer?.close();
    await Promise.allSettled([...runtimes.map((r) => r.handle.close()), security.close()]);
    throw err;
  }

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () => {
    shutdownPromise ??= (async () => {
      // New admin calls stop; one in progress (the Drain that asked for this) still gets its answer.
      admin?.stopAccepting();
      await drain();
      metricsServer?.close();
      await Promise.allSettled(table.runtimes().map((r) => r.handle.close()));
      await admin?.close(1000);
      await security.close();
      await tracing?.shutdown();
      logger.info('proxy stopped');
    })();
    return shutdownPromise;
  };

  exitAfterDrain = opts.onExit ?? (() => void shutdown());
  function reload(): Promise<ReloadResult> {
    security.reload(listener, ...(admin ? [admin.listener] : []));
    return reloader.reload();
  }

  return {
    host,
    port,
    url: `${listener.secure ? 'https' : 'http'}://${urlHostOf(host)}:${port}`,
    metricsUrl,
    adminUrl: admin?.url,
    table,
    health,
    metrics,
    pipeline,
    reload,
    drain: (timeoutMs) => drain(timeoutMs),
    shutdown,
  };
}

/** The host a URL names for a bind address (a wildcard is reached on loopback). */
function urlHostOf(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
