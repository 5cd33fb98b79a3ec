import { isDeepStrictEqual } from 'node:util';
import {
  ConfigError,
  type ConfigProblem,
  type NamespaceConfig,
  type PluginMode,
  type PrismConfig,
} from '@prism/config';
import type { Logger } from '@prism/sdk';
import type { PluginCatalog } from './catalog.js';
import { loadProxyConfig } from './load.js';
import type { ProxyMetrics } from './metrics.js';
import {
  isDegraded,
  type LaunchContext,
  type NamespaceRuntime,
  type NamespaceTable,
  type PluginLauncher,
  type StartOptions,
  startNamespaces,
} from './namespaces.js';

/** What a reload did. */
export interface ReloadResult {
  readonly ok: boolean;
  /** Why the new config was rejected (every problem, one per line); the old config keeps serving. */
  readonly error?: string;
  /** The problems of a rejected file one by one (absent when it was valid but a namespace did not start). */
  readonly problems?: readonly ConfigProblem[];
  /** Namespaces that got a new plugin instance (new or changed). */
  readonly started: readonly string[];
  /** Namespaces whose instance was kept. */
  readonly kept: readonly string[];
  /** Namespaces no longer served. */
  readonly removed: readonly string[];
}

/** Options for {@link Reloader}. */
export interface ReloaderOptions {
  /** The YAML file to re-read; undefined = the embedded default (nothing to reload). */
  readonly configFile: string | undefined;
  readonly config: PrismConfig;
  readonly catalog: PluginCatalog;
  readonly table: NamespaceTable;
  readonly launchers: Readonly<Record<PluginMode, PluginLauncher>>;
  readonly base: Omit<LaunchContext, 'namespace' | 'backend'>;
  readonly logger: Logger;
  readonly metrics?: ProxyMetrics;
  /** How long retired instances may take to finish their calls (streams are then cut). Default 10 s. */
  readonly drainTimeoutMs?: number;
  /** How new and changed namespaces start (as at proxy start: degraded while their backend is down, or not). */
  readonly start?: StartOptions;
}

/** What decides whether a namespace needs a new instance (its source line does not). */
const identity = (ns: NamespaceConfig) => ({
  pattern: ns.pattern,
  needs: ns.needs,
  backend: ns.backend,
  slots: ns.slots,
  limits: ns.limits,
});

/**
 * Hot reload: re-reads the namespace YAML; an invalid file is rejected with its errors and the old
 * config keeps serving. Otherwise new and changed namespaces, and degraded ones (backend unreachable),
 * get new plugin instances (unchanged ones keep theirs), the table is swapped in one assignment, and retired instances drain (calls in flight
 * finish; new calls already go to the new instance) before they are closed. Reloads run one at a time.
 */
export class Reloader {
  private config: PrismConfig;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ReloaderOptions) {
    this.config = opts.config;
  }

  /** The config currently served. */
  get current(): PrismConfig {
    return this.config;
  }

  reload(): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow());
    this.queue = run.catch(() => {});
    return run;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { logger, table, metrics } = this.opts;
    const none = { started: [], kept: table.names(), removed: [] };
    let next: PrismConfig;
    try {
      next = (await loadProxyConfig(this.opts.configFile, this.opts.catalog)).config;
    } catch (err) {
      const error =
        err instanceof ConfigError ? err.message : `cannot load config: ${(err as Error).message}`;
      logger.error({ error }, 'reload rejected: invalid config; the old config keeps serving');
      metrics?.reloaded('invalid');
      return { ok: false, error, ...(err instanceof ConfigError && { problems: err.problems }), ...none };
    }
    if (!isDeepStrictEqual(next.proxy, this.config.proxy))
      logger.warn('reload: proxy settings changed; they take effect on restart (namespaces reload now)');

    const kept: NamespaceRuntime[] = [];
    const toStart: NamespaceConfig[] = [];
    const before = new Map(this.config.namespaces.map((ns) => [ns.name, ns]));
    for (const ns of next.namespaces) {
      const old = before.get(ns.name);
      const runtime = table.get(ns.name);
      // A degraded namespace is started again: a reload is also the operator's "try now".
      if (old && runtime && !isDegraded(runtime) && isDeepStrictEqual(identity(old), identity(ns)))
        kept.push(runtime);
      else toStart.push(ns);
    }
    let started: NamespaceRuntime[];
    try {
      started = await startNamespaces(toStart, this.opts.launchers, this.opts.base, this.opts.start);
    } catch (err) {
      const error = (err as Error).message;
      logger.error({ error }, 'reload failed: a namespace did not start; the old config keeps serving');
      metrics?.reloaded('failed');
      return { ok: false, error, ...none };
    }

    const byName = new Map([...kept, ...started].map((r) => [r.name, r]));
    const runtimes = next.namespaces.map((ns) => byName.get(ns.name) as NamespaceRuntime);
    // Kept instances take the new access rules and rate limits with the swap.
    const configs = new Map(next.namespaces.map((ns) => [ns.name, ns]));
    for (const r of kept) r.config = configs.get(r.name) as NamespaceConfig;
    const previous = table.replace(runtimes);
    this.config = next;
    const live = new Set(runtimes);
    const retired = previous.filter((r) => !live.has(r));
    const removed = retired.filter((r) => !byName.has(r.name)).map((r) => r.name);
    logger.info(
      {
        started: started.map((r) => r.name),
        kept: kept.map((r) => r.name),
        removed,
        unavailable: started.filter(isDegraded).map((r) => r.name),
      },
      'config reloaded',
    );
    metrics?.reloaded('ok');
    await Promise.allSettled(retired.map((r) => this.retire(r)));
    return { ok: true, started: started.map((r) => r.name), kept: kept.map((r) => r.name), removed };
  }

  /**
   * Re-creates one namespace's plugin instance from its current config, as a reload of a changed
   * namespace does: the new instance starts (the old one serves meanwhile), the table is swapped, the
   * old one drains and closes. Queued with reloads. Rejects (the old instance keeps serving) when the
   * namespace is unknown or its new instance does not start; a backend that is down gives a degraded
   * namespace, as at start.
   */
  restart(name: string): Promise<NamespaceRuntime> {
    const run = this.queue.then(() => this.restartNow(name));
    this.queue = run.catch(() => {});
    return run;
  }

  private async restartNow(name: string): Promise<NamespaceRuntime> {
    const { table, logger } = this.opts;
    const old = table.get(name);
    if (!old) throw new Error(`namespace "${name}" is not configured`);
    const [fresh] = await startNamespaces([old.config], this.opts.launchers, this.opts.base, this.opts.start);
    if (!fresh) throw new Error(`namespace "${name}" did not start`);
    fresh.restarts = old.restarts + 1;
    table.replace(table.runtimes().map((r) => (r === old ? fresh : r)));
    logger.info({ namespace: name, unavailable: isDegraded(fresh) }, 'plugin instance re-created on request');
    await this.retire(old);
    return fresh;
  }

  /** Lets a retired instance finish its calls, then closes it. */
  private async retire(runtime: NamespaceRuntime): Promise<void> {
    const timeout = this.opts.drainTimeoutMs ?? 10_000;
    const left = await runtime.inflight.idle(timeout);
    if (left) this.opts.logger.warn({ namespace: runtime.name, left }, 'drain timed out; closing anyway');
    await runtime.handle
      .close()
      .catch((err: Error) =>
        this.opts.logger.warn(
          { namespace: runtime.name, err: err.message },
          'closing a retired instance failed',
        ),
      );
  }
}
