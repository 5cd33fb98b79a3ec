import { readFileSync } from 'node:fs';
import type { BackendCatalog, BackendDescription } from '@prism/config';
import type { PluginDefinition } from '@prism/sdk';

const ADAPTER_PREFIX = '@prism/adapter-';

/** Backend types shipped with the proxy: every `@prism/adapter-*` dependency of this package. */
export function bundledBackendTypes(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(pkg.dependencies ?? {})
    .filter((name) => name.startsWith(ADAPTER_PREFIX))
    .map((name) => name.slice(ADAPTER_PREFIX.length))
    .sort();
}

function isPluginDefinition(value: unknown): value is PluginDefinition {
  const v = value as Partial<PluginDefinition> | undefined;
  return !!v && typeof v.name === 'string' && Array.isArray(v.interfaces) && typeof v.create === 'function';
}

/**
 * Resolves backend types to plugin definitions by importing their packages on demand, so the router
 * never names an adapter and a proxy only loads the adapters its config uses.
 */
export class PluginCatalog implements BackendCatalog {
  private readonly loaded = new Map<string, PluginDefinition>();
  private readonly bundled: readonly string[];

  constructor(bundled: readonly string[] = bundledBackendTypes()) {
    this.bundled = bundled;
  }

  /** Registers a definition directly (tests, embedders). */
  register(def: PluginDefinition): this {
    this.loaded.set(def.name, def);
    return this;
  }

  /** Imports the packages of the given types (`@prism/adapter-<type>`, or `pkg` when set). */
  async load(types: Iterable<string>, packages: ReadonlyMap<string, string> = new Map()): Promise<void> {
    for (const type of new Set(types)) {
      if (this.loaded.has(type)) continue;
      const specifier =
        packages.get(type) ?? (this.bundled.includes(type) ? `${ADAPTER_PREFIX}${type}` : undefined);
      if (!specifier) continue; // unknown types are reported by config validation, with the list of known ones
      const mod = (await import(specifier)) as { default?: unknown };
      if (!isPluginDefinition(mod.default))
        throw new Error(`package "${specifier}" does not default-export a plugin made with definePlugin()`);
      this.loaded.set(type, mod.default);
    }
  }

  types(): readonly string[] {
    return [...new Set([...this.bundled, ...this.loaded.keys()])].sort();
  }

  describe(type: string): BackendDescription | undefined {
    const def = this.loaded.get(type);
    if (!def) return undefined;
    const isolation = def.isolation?.bind(def);
    return {
      interfaces: def.interfaces.map((i) => i.name),
      configSchema: def.configSchema,
      ...(isolation ? { isolation } : {}),
    };
  }

  /** The loaded definition of a type (after {@link load}). */
  get(type: string): PluginDefinition | undefined {
    return this.loaded.get(type);
  }
}
