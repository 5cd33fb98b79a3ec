import type { BackendConfig, NamespaceConfig, PluginMode } from '@prism/config';
import {
  type AnyImpl,
  InflightCounter,
  type Logger,
  type PluginHandle,
  type PluginMetrics,
} from '@prism/sdk';
import type { PluginCatalog } from './catalog.js';

/** One configured namespace as the router sees it. */
export interface NamespaceRuntime {
  readonly name: string;
  readonly backendType: string;
  readonly mode: PluginMode;
  readonly handle: PluginHandle;
  /** Calls running on this runtime (the router counts them; a reload drains them). */
  readonly inflight: InflightCounter;
  /** The namespace's config; a reload that keeps the plugin instance updates it (access rules, limits). */
  config: NamespaceConfig;
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

/** Starts the runtimes of every namespace; on any failure, closes what was started and rethrows. */
export async function startNamespaces(
  namespaces: readonly NamespaceConfig[],
  launchers: Readonly<Record<PluginMode, PluginLauncher>>,
  base: Omit<LaunchContext, 'namespace' | 'backend'>,
): Promise<NamespaceRuntime[]> {
  const started: NamespaceRuntime[] = [];
  try {
    for (const namespace of namespaces) {
      const backend = namespace.backend;
      if (!backend)
        throw new Error(
          `namespace "${namespace.name}" (${namespace.source.file}:${namespace.source.line}): pattern "${namespace.pattern}" with slots is not served by this proxy version; give the namespace a "backend"`,
        );
      const handle = await launchers[backend.plugin.mode]({ ...base, namespace, backend });
      started.push({
        name: namespace.name,
        backendType: backend.type,
        mode: backend.plugin.mode,
        handle,
        inflight: new InflightCounter(),
        config: namespace,
      });
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
