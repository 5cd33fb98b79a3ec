import { readFileSync } from 'node:fs';

/** Package name prefix of the adapters the proxy ships (`@prism/adapter-<type>`). */
export const ADAPTER_PREFIX = '@prism/adapter-';

/** The adapters this proxy ships, and how to load them. */
export interface ShippedAdapters {
  /** Backend types shipped with the proxy, sorted. */
  readonly types: readonly string[];
  /** Imports a shipped adapter's package; its default export is the plugin definition. */
  load(type: string): Promise<unknown>;
  /** The sidecar executable of a shipped adapter when the proxy carries its own (the bundle does). */
  pluginBin(type: string): string | undefined;
}

/**
 * Every `@prism/adapter-*` dependency of this package, imported by name on first use. The bundle
 * (scripts/bundle.mjs) replaces this module with static imports, so that esbuild makes each adapter a
 * chunk of its own that is still loaded only when a config names it.
 */
export const shippedAdapters: ShippedAdapters = {
  types: adapterTypes(),
  load: (type) => import(`${ADAPTER_PREFIX}${type}`),
  pluginBin: () => undefined,
};

function adapterTypes(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  return Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
    .filter((name) => name.startsWith(ADAPTER_PREFIX))
    .map((name) => name.slice(ADAPTER_PREFIX.length))
    .sort();
}
