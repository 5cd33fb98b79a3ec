import type { Isolation, IsolationScope } from '@prism/sdk';
import type { Path } from './path.js';
import type { Reporter } from './reporter.js';
import type { BackendCatalog, BackendConfig, NamespaceConfig } from './types.js';

/** A checked namespace and where it is in the file. */
export interface PlacedNamespace {
  readonly ns: NamespaceConfig;
  readonly path: Path;
}

interface Placed {
  readonly name: string;
  readonly type: string;
  readonly backend: BackendConfig;
  readonly path: Path;
  readonly isolation: Isolation;
}

/** Where a namespace's data lives, from its plugin's `isolation` (undefined when unknown or private). */
function isolationOf(ns: NamespaceConfig, catalog: BackendCatalog): Isolation | undefined {
  const backend = ns.backend;
  const described = backend && catalog.describe(backend.type);
  if (!backend || !described?.isolation) return undefined;
  let config: unknown = backend.config;
  if (described.configSchema) {
    const parsed = described.configSchema.safeParse(backend.config);
    if (!parsed.success) return undefined; // reported by the schema check
    config = parsed.data;
  }
  try {
    return described.isolation(config, ns.name);
  } catch {
    return undefined; // a plugin's bug must not hide the config's real problems
  }
}

function overlaps(a: IsolationScope, b: IsolationScope): boolean {
  if (a.kind !== b.kind) return false;
  if (a.match === 'exact' || b.match === 'exact') return a.value === b.value;
  return a.value.startsWith(b.value) || b.value.startsWith(a.value);
}

/**
 * Rejects namespaces that would see each other's data: two namespaces whose backends share an endpoint
 * and whose scopes of one kind overlap (a prefix of the other, or the same table). The problem is
 * reported at the later namespace and names both, with the fields the scopes come from.
 */
export function checkIsolation(
  namespaces: readonly PlacedNamespace[],
  catalog: BackendCatalog,
  r: Reporter,
): void {
  const placed: Placed[] = [];
  for (const { ns, path } of namespaces) {
    const isolation = isolationOf(ns, catalog);
    if (isolation && ns.backend)
      placed.push({ name: ns.name, type: ns.backend.type, backend: ns.backend, path, isolation });
  }
  for (let j = 1; j < placed.length; j++) {
    const b = placed[j]!;
    for (let i = 0; i < j; i++) {
      const a = placed[i]!;
      const shared = a.isolation.endpoints.find((e) => b.isolation.endpoints.includes(e));
      if (shared === undefined) continue;
      const pair = findOverlap(a.isolation.scopes, b.isolation.scopes);
      if (!pair) continue;
      const [sa, sb] = pair;
      const at =
        sb.field && sb.field in b.backend.config
          ? [...b.path, 'backend', 'config', sb.field]
          : [...b.path, 'backend'];
      const show = (s: IsolationScope) =>
        s.field ? `${s.field} ${JSON.stringify(s.value)}` : `${JSON.stringify(s.value)} (from its name)`;
      // The namespace with the shorter value reaches into the other's.
      const [outer, inner, short, long] = sb.value.startsWith(sa.value)
        ? [a, b, sa.value, sb.value]
        : [b, a, sb.value, sa.value];
      const effect =
        short === long
          ? 'the two are equal, so they would share data'
          : `${JSON.stringify(short)} is a prefix of ${JSON.stringify(long)}, so "${outer.name}" could read and overwrite the data of "${inner.name}"`;
      const fix =
        sa.match === 'exact' || sb.match === 'exact'
          ? 'give them different values'
          : 'give them values where neither is a prefix of the other';
      r.add(
        at,
        `namespaces "${a.name}" (${formatIndex(a.path)}) and "${b.name}" share ${b.type} ${shared} and their ${sa.kind} overlap: "${a.name}" uses ${show(sa)}, "${b.name}" uses ${show(sb)}; ${effect}; ${fix}`,
      );
    }
  }
}

function findOverlap(
  as: readonly IsolationScope[],
  bs: readonly IsolationScope[],
): [IsolationScope, IsolationScope] | undefined {
  for (const sa of as) for (const sb of bs) if (overlaps(sa, sb)) return [sa, sb];
  return undefined;
}

function formatIndex(path: Path): string {
  return `namespaces[${String(path[1])}]`;
}
