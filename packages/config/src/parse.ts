import { dirname, resolve } from 'node:path';
import type { BackendContext } from './backend.js';
import { checkIsolation, type PlacedNamespace } from './isolation.js';
import { checkNamespace } from './namespace.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { checkProxy } from './proxy.js';
import { resolveReferences } from './references.js';
import { Reporter } from './reporter.js';
import { mapAt, NameSchema } from './schemas.js';
import { parseYaml } from './source.js';
import type { BackendCatalog, PrismConfig, ProxyConfig } from './types.js';

/** Options of {@link parseConfig}. */
export interface ParseOptions {
  /** File name used in problems; relative `${file:}` and TLS paths resolve against its directory. */
  file: string;
  catalog: BackendCatalog;
  /** Environment for `${env:}` references; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const TOP_KEYS = ['proxy', 'namespaces'];

/**
 * Parses and validates a Prism config. Throws one {@link ConfigError} listing every problem
 * (syntax, unknown keys, types, references, patterns, backends and their `needs`).
 */
export function parseConfig(text: string, opts: ParseOptions): PrismConfig {
  const source = parseYaml(text);
  const r = new Reporter(opts.file, source);
  if (source.errors.length) {
    for (const e of source.errors) r.addAt(e.line, e.column, `YAML syntax error: ${e.message}`);
    throw new ConfigError(r.problems);
  }
  nameNamespaces(source.value, r);
  const baseDir = dirname(resolve(opts.file));
  const raw = resolveReferences(source.value, [], { env: opts.env ?? process.env, baseDir, reporter: r });
  const top = mapAt(raw, [], TOP_KEYS, r, 'proxy, namespaces') ?? {};
  const proxy = checkProxy(top.proxy, ['proxy'], r, baseDir);
  const ctx: BackendContext = { catalog: opts.catalog, reporter: r, baseDir };
  const placed = checkNamespaces(top.namespaces, proxy, ctx);
  checkIsolation(placed, ctx.catalog, r);
  const namespaces = placed.map((p) => p.ns);
  if (r.problems.length) throw new ConfigError(sortByPosition(r.problems));
  return { file: opts.file, proxy, namespaces };
}

function checkNamespaces(raw: unknown, proxy: ProxyConfig, ctx: BackendContext): PlacedNamespace[] {
  const { limits: proxyLimits, readMaxBytes } = proxy;
  const r = ctx.reporter;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    r.add(['namespaces'], 'must be a list of namespaces (each item starts with "- name: ...")');
    return [];
  }
  const out: PlacedNamespace[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    const path = ['namespaces', i];
    const ns = checkNamespace(item, path, proxyLimits, ctx);
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === 'string') {
      const first = seen.get(name);
      if (first !== undefined)
        r.add(
          [...path, 'name'],
          `duplicate namespace name "${name}" (first declared in namespaces[${first}])`,
        );
      else seen.set(name, i);
    }
    if (!ns) return;
    if (ns.access.length && !proxy.auth)
      r.add(
        [...path, 'access'],
        'access rules need proxy.auth (without it every caller is anonymous and allowed)',
      );
    // Only explicit limits are checked: a small read_max_bytes alone must not break every namespace.
    const own = (item as { limits?: { max_value_bytes?: unknown } | null }).limits?.max_value_bytes;
    if (own !== undefined && ns.limits.maxValueBytes > readMaxBytes)
      r.add(
        [...path, 'limits', 'max_value_bytes'],
        `${ns.limits.maxValueBytes} exceeds proxy.read_max_bytes (${readMaxBytes}): such requests are refused before the namespace sees them`,
      );
    out.push({ ns, path });
  });
  return out;
}

/** Remembers valid literal namespace names so every problem inside a namespace can name it. */
function nameNamespaces(value: unknown, r: Reporter): void {
  const list = (value as { namespaces?: unknown } | null)?.namespaces;
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (NameSchema.safeParse(name).success) r.namespaceNames[i] = name as string;
  });
}

function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}
