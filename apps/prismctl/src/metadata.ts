import { isModel, KNOWN_FLAVOURS, MODELS, parseFlavour } from '@prism/config';
import { PluginCatalog } from '@prism/proxy';
import { UsageError } from './io.js';
import { didYouMean } from './output.js';

/**
 * Backend types that run inside the proxy process, with no server to operate: `memstore` (memory, lost
 * on restart) and `sqlite` (a local file). Their data is private to one proxy process, so replicas behind
 * a load balancer do not share it: `generate config` picks them only when asked or when nothing else fits.
 */
export const EMBEDDED_BACKENDS: readonly string[] = ['memstore', 'sqlite'];

/**
 * Order backends are listed and preferred in: the architecture's backend priority (the column order of
 * docs/backends.md). Types not listed here follow, alphabetically.
 */
export const BACKEND_ORDER: readonly string[] = ['memstore', 'redis', 'postgres', 'sqlite', 'nats', 'kafka'];

/** What prismctl knows about one backend type the proxy ships. */
export interface BackendInfo {
  /** `backend.type` in YAML. */
  readonly type: string;
  /** npm package the proxy imports it from. */
  readonly package: string;
  /** False when the package cannot be imported (not installed, native build missing); see `note`. */
  readonly installed: boolean;
  /** Runs inside the proxy process (see {@link EMBEDDED_BACKENDS}). */
  readonly embedded: boolean;
  readonly version?: string;
  readonly description?: string;
  /** Interface flavours the plugin declares, by model then `basic` first; empty when not installed. */
  readonly interfaces: readonly string[];
  /** Why the backend is unusable, e.g. `not installed: Cannot find package ...`. */
  readonly note?: string;
}

const rank = (list: readonly string[], item: string) =>
  list.includes(item) ? list.indexOf(item) : list.length;

/** Sorts backend types by {@link BACKEND_ORDER}, unknown ones alphabetically after. */
export function byBackendOrder(a: string, b: string): number {
  return rank(BACKEND_ORDER, a) - rank(BACKEND_ORDER, b) || a.localeCompare(b);
}

/** Sorts flavours by model (catalog order), `basic` first within a model, then alphabetically. */
export function byFlavourOrder(a: string, b: string): number {
  const key = (f: string): [number, string] => {
    const p = parseFlavour(f);
    return p ? [rank(MODELS, p.model), p.feature === 'basic' ? '' : p.feature] : [MODELS.length, f];
  };
  const [ma, fa] = key(a);
  const [mb, fb] = key(b);
  return ma - mb || fa.localeCompare(fb);
}

/**
 * Loads every backend type the catalog knows (by default: the `@prism/adapter-*` packages the proxy
 * depends on) through the proxy's own {@link PluginCatalog}, so prismctl reports exactly what the proxy
 * would load. A package that cannot be imported is listed with a "not installed" note, not thrown.
 */
export async function loadBackends(catalog: PluginCatalog = new PluginCatalog()): Promise<BackendInfo[]> {
  const out: BackendInfo[] = [];
  for (const type of [...catalog.types()].sort(byBackendOrder)) {
    const base = { type, package: `@prism/adapter-${type}`, embedded: EMBEDDED_BACKENDS.includes(type) };
    try {
      await catalog.load([type]);
    } catch (err) {
      const reason = ((err as Error).message ?? String(err)).split('\n')[0];
      out.push({ ...base, installed: false, interfaces: [], note: `not installed: ${reason}` });
      continue;
    }
    const def = catalog.get(type);
    if (!def) {
      out.push({ ...base, installed: false, interfaces: [], note: 'not installed' });
      continue;
    }
    out.push({
      ...base,
      installed: true,
      version: def.version,
      ...(def.description ? { description: def.description } : {}),
      interfaces: def.interfaces.map((i) => i.name).sort(byFlavourOrder),
    });
  }
  return out;
}

/** Installed backends implementing every flavour in `flavours`, in {@link BACKEND_ORDER}. */
export function backendsImplementing(
  backends: readonly BackendInfo[],
  flavours: readonly string[],
): BackendInfo[] {
  return backends.filter((b) => b.installed && flavours.every((f) => b.interfaces.includes(f)));
}

/** Every flavour name prismctl knows: the known flavours of each model and whatever a backend declares. */
export function allFlavours(backends: readonly BackendInfo[]): string[] {
  const names = new Set(MODELS.flatMap((m) => KNOWN_FLAVOURS[m].map((f) => `${m}_${f}`)));
  for (const b of backends) for (const i of b.interfaces) names.add(i);
  return [...names].sort(byFlavourOrder);
}

/** Flavours of one model: the known ones and those some backend declares. */
export function modelFlavours(model: string, backends: readonly BackendInfo[]): string[] {
  if (!isModel(model)) return [];
  return allFlavours(backends).filter((f) => parseFlavour(f)?.model === model);
}

/**
 * Where a generated namespace connects by default: a local server at the backend's usual port (the
 * adapter's own default where it has one), a file named after the namespace for sqlite, nothing for
 * memstore. Undefined for types prismctl has no starter for.
 */
export function starterConfig(type: string, namespace: string): Record<string, unknown> | undefined {
  switch (type) {
    case 'memstore':
      return {};
    case 'sqlite':
      return { path: `./prism-${namespace}.db` };
    case 'redis':
      return { url: 'redis://127.0.0.1:6379' };
    case 'postgres':
      return { url: 'postgres://postgres@127.0.0.1:5432/postgres' };
    case 'nats':
      return { servers: ['nats://127.0.0.1:4222'] };
    case 'kafka':
      return { brokers: ['127.0.0.1:9092'] };
    case 'clickhouse':
      return { url: 'http://127.0.0.1:8123' };
    case 'gremlin':
      return { url: 'ws://127.0.0.1:8182/gremlin' };
    case 'neptune':
      return { endpoint: 'db.cluster-example.eu-west-1.neptune.amazonaws.com', region: 'eu-west-1' };
    default:
      return undefined;
  }
}

/**
 * Checks flavour names given on the command line: each must be `<model>_<feature>` and known (a known
 * flavour, or one some backend declares). Throws a {@link UsageError} with a suggestion otherwise.
 */
export function checkFlavourNames(requested: readonly string[], backends: readonly BackendInfo[]): string[] {
  const known = allFlavours(backends);
  for (const f of requested) {
    if (known.includes(f)) continue;
    const bare = known.filter((k) => parseFlavour(k)?.feature === f);
    const hint = bare.length
      ? ` (did you mean ${bare.map((b) => `"${b}"`).join(' or ')}?)`
      : didYouMean(f, known);
    throw new UsageError(
      parseFlavour(f)
        ? `unknown interface "${f}"${hint}: no backend implements it and it is not a known flavour (prismctl patterns list)`
        : `"${f}" is not an interface flavour${hint}; flavours are <model>_<feature>, e.g. keyvalue_ttl`,
    );
  }
  return [...new Set(requested)];
}

/** Groups flavours by model, one line per model: `keyvalue: basic, ttl`. */
export function flavoursByModel(interfaces: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const i of interfaces) {
    const p = parseFlavour(i);
    const [model, feature] = p ? [p.model, p.feature] : ['other', i];
    groups.set(model, [...(groups.get(model) ?? []), feature]);
  }
  return [...groups].map(([m, fs]) => `${m}: ${fs.join(', ')}`).join('\n');
}
