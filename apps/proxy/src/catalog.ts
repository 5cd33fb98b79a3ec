import type { BackendCatalog, BackendDescription } from '@prism/config';
import type { PluginDefinition } from '@prism/sdk';
import { ADAPTER_PREFIX, shippedAdapters } from './adapters.js';

/** Backend types shipped with the proxy: every `@prism/adapter-*` dependency of this package. */
export function bundledBackendTypes(): string[] {
  return [...shippedAdapters.types];
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
      const custom = packages.get(type);
      if (!custom && !this.bundled.includes(type)) continue; // config validation lists the known types
      const specifier = custom ?? `${ADAPTER_PREFIX}${type}`;
      const mod = (await (custom ? import(custom) : shippedAdapters.load(type)).catch((err: unknown) => {
        throw notInstalled(type, specifier, err);
      })) as { default?: unknown };
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

/**
 * Turns "cannot find package X" while importing an adapter into what to do about it: `npm start` leaves
 * out adapters whose dependencies build native code (the Kafka client) unless the config names them.
 */
function notInstalled(type: string, specifier: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'PRISM_ADAPTER_NOT_INSTALLED') return e;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(e.message)?.[1];
  return new Error(
    `backend type "${type}" needs ${specifier}${missing && missing !== specifier ? ` and its dependency ${missing}` : ''}, which is not installed here. \`npm start -- --config FILE\` installs the adapters FILE names (native ones build once, which takes minutes for the Kafka client); \`pnpm install\` installs them all`,
    { cause: err },
  );
}
