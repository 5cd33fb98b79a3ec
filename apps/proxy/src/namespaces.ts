import type { BackendConfig, NamespaceConfig, PluginMode } from '@prism/config';
import {
  type AnyImpl,
  InflightCounter,
  type Logger,
  type PluginHandle,
  type PluginMetrics,
} from '@prism/sdk';
import type { PluginCatalog } from './catalog.js';
import { type BackendRetryOptions, isBackendOutage, secretValues, UnavailablePlugin } from './degraded.js';
import { KNOWN_INTERFACES } from './interfaces.js';

/** One configured namespace as the router sees it. */
export interface NamespaceRuntime {
  readonly name: string;
  readonly backendType: string;
  readonly mode: PluginMode;
  /**
   * The plugin serving the namespace. While its backend is unreachable this is an {@link UnavailablePlugin}
   * (see {@link isDegraded}), which puts the real handle here once the plugin starts.
   */
  handle: PluginHandle;
  /** Calls running on this runtime (the router counts them; a reload drains them). */
  readonly inflight: InflightCounter;
  /** The namespace's config; a reload that keeps the plugin instance updates it (access rules, limits). */
  config: NamespaceConfig;
  /** When `handle` was installed (the admin API's uptime of in-process plugins). */
  startedAt: Date;
  /**
   * Times the admin API re-created this namespace's instance (RestartPlugin of a plugin that cannot
   * restart itself); carried over to the new runtime. Supervised plugins count their own restarts.
   */
  restarts: number;
}

/** What a launcher gets to start a plugin for one namespace. */
export interface LaunchContext {
  readonly namespace: NamespaceConfig;
  readonly backend: BackendConfig;
  readonly catalog: PluginCatalog;
  readonly logger: Logger;
  readonly metrics: PluginMetrics;
}

/** Starts a plugin for a namespace in one deployment mode (in_process, sidecar, remote). */
export type PluginLauncher = (ctx: LaunchContext) => Promise<PluginHandle>;

/** The live namespace → runtime map. Swapped as a whole on reload, so a lookup is one Map.get. */
export class NamespaceTable {
  private map: ReadonlyMap<string, NamespaceRuntime>;

  constructor(runtimes: Iterable<NamespaceRuntime> = []) {
    this.map = new Map([...runtimes].map((r) => [r.name, r]));
  }

  get(name: string): NamespaceRuntime | undefined {
    return this.map.get(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  runtimes(): NamespaceRuntime[] {
    return [...this.map.values()];
  }

  /** Installs a new set of runtimes and returns the previous ones (the caller drains and closes them). */
  replace(runtimes: Iterable<NamespaceRuntime>): NamespaceRuntime[] {
    const previous = this.runtimes();
    this.map = new Map([...runtimes].map((r) => [r.name, r]));
    return previous;
  }
}

/** Options for {@link startNamespaces}. */
export interface StartOptions {
  /**
   * Serve a namespace whose plugin fails to start because its backend is unreachable (see
   * {@link isBackendOutage}) as UNAVAILABLE, and keep starting it in the background, instead of failing
   * everything. Off by default (and with `proxy.require_all_backends`).
   */
  readonly degraded?: boolean;
  /** Backoff of those background starts (defaults: {@link DEFAULT_BACKEND_RETRY}). */
  readonly retry?: BackendRetryOptions;
}

/** True while a namespace's backend is unreachable and its placeholder answers UNAVAILABLE. */
export function isDegraded(runtime: NamespaceRuntime): boolean {
  return runtime.handle instanceof UnavailablePlugin;
}

/**
 * Starts the runtimes of every namespace. With `degraded`, a namespace whose backend is unreachable gets
 * an {@link UnavailablePlugin} that keeps starting it; any other failure (and, without `degraded`, any
 * failure at all) closes what was started and rethrows.
 */
export async function startNamespaces(
  namespaces: readonly NamespaceConfig[],
  launchers: Readonly<Record<PluginMode, PluginLauncher>>,
  base: Omit<LaunchContext, 'namespace' | 'backend'>,
  opts: StartOptions = {},
): Promise<NamespaceRuntime[]> {
  const started: NamespaceRuntime[] = [];
  try {
    for (const namespace of namespaces) {
      const backend = namespace.backend;
      if (!backend)
        throw new Error(
          `namespace "${namespace.name}" (${namespace.source.file}:${namespace.source.line}): pattern "${namespace.pattern}" with slots is not served by this proxy version; give the namespace a "backend"`,
        );
      const launch = () => launchers[backend.plugin.mode]({ ...base, namespace, backend });
      const runtime = { name: namespace.name, backendType: backend.type, mode: backend.plugin.mode };
      try {
        started.push({
          ...runtime,
          handle: await launch(),
          inflight: new InflightCounter(),
          config: namespace,
          startedAt: new Date(),
          restarts: 0,
        });
      } catch (err) {
        if (!opts.degraded || !isBackendOutage(err)) throw err;
        const degraded: NamespaceRuntime = {
          ...runtime,
          handle: undefined as unknown as PluginHandle,
          inflight: new InflightCounter(),
          config: namespace,
          startedAt: new Date(),
          restarts: 0,
        };
        const placeholder = new UnavailablePlugin(err, {
          namespace: namespace.name,
          backendType: backend.type,
          interfaces: base.catalog.get(backend.type)?.interfaces ?? KNOWN_INTERFACES,
          launch,
          install: (handle) => {
            degraded.handle = handle;
            degraded.startedAt = new Date();
          },
          logger: base.logger,
          secrets: secretValues(backend),
          ...(opts.retry ? { retry: opts.retry } : {}),
        });
        degraded.handle = placeholder;
        placeholder.begin();
        started.push(degraded);
      }
    }
    return started;
  } catch (err) {
    await Promise.allSettled(started.map((r) => r.handle.close()));
    throw err;
  }
}

/** Lists a runtime's interfaces for error messages. */
export function describeServices(services: ReadonlyMap<string, AnyImpl>): string {
  return [...services.keys()].map((t) => t.slice(t.lastIndexOf('.') + 1)).join(', ') || 'nothing';
}
