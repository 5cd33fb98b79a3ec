import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  ConfigError,
  type ConfigProblem,
  DEFAULT_CONFIG_YAML,
  type PrismConfig,
  parseConfig,
} from '@prism/config';
import { parse } from 'yaml';
import { PluginCatalog } from './catalog.js';

type RawBackend = { type?: unknown; plugin?: { package?: unknown } };

/** Backend types (and explicit plugin packages) a raw config refers to, so only those get imported. */
function referencedBackends(raw: unknown, dir: string): { types: string[]; packages: Map<string, string> } {
  const types: string[] = [];
  const packages = new Map<string, string>();
  const visit = (b: RawBackend | undefined) => {
    if (!b || typeof b.type !== 'string') return;
    types.push(b.type);
    const pkg = b.plugin?.package;
    if (typeof pkg === 'string') packages.set(b.type, pkg.startsWith('.') ? resolve(dir, pkg) : pkg);
  };
  const namespaces = (raw as { namespaces?: unknown })?.namespaces;
  if (Array.isArray(namespaces))
    for (const ns of namespaces as { backend?: RawBackend; slots?: Record<string, RawBackend> }[]) {
      visit(ns?.backend);
      for (const slot of Object.values(ns?.slots ?? {})) visit(slot);
    }
  return { types, packages };
}

/**
 * What a valid config asks for that this proxy version does not serve: today, namespaces of a slot
 * pattern (`slots:`), which validate but have no runtime yet. One problem per such namespace.
 */
export function unservedProblems(config: PrismConfig): ConfigProblem[] {
  return config.namespaces.flatMap((ns, i) =>
    ns.backend
      ? []
      : [
          {
            file: ns.source.file,
            line: ns.source.line,
            namespace: ns.name,
            field: `namespaces[${i}].pattern`,
            message: `pattern "${ns.pattern}" with slots is not served by this proxy version: the config is valid, but the proxy refuses to start it; use single-backend patterns (keyvalue, pubsub, ...) for now`,
          },
        ],
  );
}

/**
 * Thrown by {@link loadProxyConfig} for a config that validates but that this proxy version cannot serve
 * (see {@link unservedProblems}). Carries what was loaded, so tools (prismctl) can still report on it.
 */
export class UnservedConfigError extends ConfigError {
  constructor(
    problems: readonly ConfigProblem[],
    /** The validated config. */
    readonly config: PrismConfig,
    /** The catalog with the config's adapters loaded. */
    readonly catalog: PluginCatalog,
  ) {
    super(problems);
    this.name = 'UnservedConfigError';
  }
}

/**
 * Reads a namespace YAML (or the embedded default when `file` is undefined), loads the adapters it
 * uses into a catalog and validates it. Throws ConfigError listing every problem, and an
 * {@link UnservedConfigError} for a valid config this proxy version would refuse to start.
 */
export async function loadProxyConfig(
  file: string | undefined,
  catalog = new PluginCatalog(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: PrismConfig; catalog: PluginCatalog }> {
  const path = file === undefined ? '<embedded default>' : isAbsolute(file) ? file : resolve(file);
  const text = file === undefined ? DEFAULT_CONFIG_YAML : await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = parse(text);
  } catch {
    raw = undefined; // parseConfig reports the syntax error with its line
  }
  const { types, packages } = referencedBackends(raw, resolve(path, '..'));
  await catalog.load(types, packages);
  const config = parseConfig(text, { file: path, catalog, env });
  const unserved = unservedProblems(config);
  if (unserved.length) throw new UnservedConfigError(unserved, config, catalog);
  return { config, catalog };
}
