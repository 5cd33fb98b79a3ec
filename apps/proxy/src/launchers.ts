import { ConnectError } from '@connectrpc/connect';
import type { PluginMode } from '@prism/config';
import { type InterfaceDefinition, instantiatePlugin } from '@prism/sdk';
import { KNOWN_INTERFACES } from './interfaces.js';
import { ProxyMetrics } from './metrics.js';
import type { PluginLauncher } from './namespaces.js';
import { connectRemote, readClientTls } from './remote.js';
import { resolvePluginBin, startSidecar } from './sidecar.js';
import { SupervisedPlugin } from './supervisor.js';

/** in_process: the adapter package is imported and called directly (lowest latency). */
export const launchInProcess: PluginLauncher = async ({ namespace, backend, catalog, logger, metrics }) => {
  const def = catalog.get(backend.type);
  if (!def) throw new Error(`namespace "${namespace.name}": backend "${backend.type}" is not loaded`);
  try {
    return await instantiatePlugin(def, backend.config, {
      namespace: namespace.name,
      limits: namespace.limits,
      logger,
      metrics,
    });
  } catch (err) {
    const message = (reason: string) =>
      `namespace "${namespace.name}": backend "${backend.type}" failed to start: ${reason}`;
    // The adapter's code says what to fix (UNAUTHENTICATED: the secret; UNAVAILABLE: the server).
    if (err instanceof ConnectError)
      throw new ConnectError(message(err.rawMessage), err.code, undefined, undefined, err);
    throw new Error(message(err instanceof Error ? err.message : String(err)), { cause: err });
  }
};

/** Options for {@link createLaunchers}. */
export interface LauncherOptions {
  /** Interfaces the proxy mounts: the ones a sidecar/remote plugin is called through. */
  readonly interfaces?: readonly InterfaceDefinition[];
  readonly metrics?: ProxyMetrics;
  /** Period of sidecar/remote health checks (default 2000 ms). */
  readonly healthIntervalMs?: number;
  /** Extra environment for sidecar processes (e.g. where to export traces). */
  readonly sidecarEnv?: Readonly<Record<string, string>>;
  /** Largest request message a sidecar accepts (the proxy's `read_max_bytes`). */
  readonly readMaxBytes?: number;
}

/**
 * The launcher of each deployment mode. Sidecar and remote handles are supervised (health checks,
 * restart with backoff, UNAVAILABLE at once while down) and their process's metrics are merged into the
 * proxy's `/metrics`.
 */
export function createLaunchers(opts: LauncherOptions = {}): Record<PluginMode, PluginLauncher> {
  const interfaces = opts.interfaces ?? KNOWN_INTERFACES;
  const metrics = opts.metrics ?? new ProxyMetrics();
  const supervise = (
    ctx: Parameters<PluginLauncher>[0],
    where: string,
    connect: ConstructorParameters<typeof SupervisedPlugin>[1]['connect'],
  ) =>
    connect().then((first) => {
      const owner = {};
      const plugin = new SupervisedPlugin(first, {
        onClose: () => metrics.removeSource(owner),
        namespace: ctx.namespace.name,
        mode: ctx.backend.plugin.mode,
        where,
        connect,
        logger: ctx.logger,
        metrics: metrics.namespace(ctx.namespace.name, ctx.backend.plugin.mode),
        ...(opts.healthIntervalMs ? { healthIntervalMs: opts.healthIntervalMs } : {}),
      });
      metrics.addSource(owner, () => plugin.metricsSource());
      return plugin;
    });
  return {
    in_process: (ctx) => launchInProcess({ ...ctx, metrics: metrics.plugins }),
    sidecar: async (ctx) => {
      const bin = resolvePluginBin(ctx.backend, ctx.namespace.source.file);
      const spec = {
        namespace: ctx.namespace,
        bin,
        interfaces,
        logger: ctx.logger,
        env: opts.sidecarEnv ?? {},
        readMaxBytes: opts.readMaxBytes ?? 16 * 1024 * 1024,
      };
      return supervise(ctx, `sidecar ${bin.packageName}`, () => startSidecar(spec));
    },
    remote: async (ctx) => {
      const endpoint = ctx.backend.plugin.endpoint;
      if (!endpoint)
        throw new Error(`namespace "${ctx.namespace.name}": a remote plugin needs plugin.endpoint`);
      const tls = await readClientTls(ctx.backend.plugin.tls);
      const spec = { namespace: ctx.namespace, endpoint, tls, interfaces };
      return supervise(ctx, `remote plugin ${endpoint}`, () => connectRemote(spec));
    },
  };
}

/** Launchers with their own metrics registry (embedders; `startProxy` makes its own). */
export const defaultLaunchers: Record<PluginMode, PluginLauncher> = createLaunchers();
