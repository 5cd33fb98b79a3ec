import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { formatPath, type Path } from './path.js';
import { knownFlavourNames } from './patterns.js';
import { referencedEnvNames } from './references.js';
import type { Reporter } from './reporter.js';
import {
  BackendTypeSchema,
  ConfigMapSchema,
  EndpointSchema,
  ModeSchema,
  mapAt,
  PackageSchema,
  TlsSchema,
} from './schemas.js';
import { didYouMean } from './suggest.js';
import type { BackendCatalog, BackendConfig, PluginMode, TlsConfig } from './types.js';

/** A flavour a backend must implement, where it comes from (for the message) and where to report it. */
export interface Need {
  readonly flavour: string;
  /** E.g. `needs.ttl`, `pattern keyvalue`, `slot registry of multicast-registry`. */
  readonly reason: string;
  readonly path: Path;
  /** Report at the map key (`needs: {ttl: true}`) rather than at its value. */
  readonly key?: boolean;
}

/** What backend checks need besides the value. */
export interface BackendContext {
  readonly catalog: BackendCatalog;
  readonly reporter: Reporter;
  /** Directory relative TLS paths are resolved against. */
  readonly baseDir: string;
}

const BACKEND_KEYS = ['type', 'plugin', 'config'];
const PLUGIN_KEYS = ['mode', 'endpoint', 'tls', 'package'];

/** Validates one `backend:` (or slot) map and checks `needs` against the catalog. */
export function checkBackend(
  raw: unknown,
  path: Path,
  needs: readonly Need[],
  ctx: BackendContext,
  label = 'backend',
): BackendConfig | undefined {
  const r = ctx.reporter;
  const obj = mapAt(raw, path, BACKEND_KEYS, r, 'type, plugin, config', false);
  if (!obj) return undefined;
  const plugin = checkPlugin(obj.plugin, [...path, 'plugin'], ctx);
  const config =
    obj.config === undefined || obj.config === null
      ? {}
      : r.validate(ConfigMapSchema, obj.config, [...path, 'config']);

  if (obj.type === undefined) {
    r.add(path, `${label} needs a "type" (one of: ${ctx.catalog.types().join(', ')})`);
    return undefined;
  }
  const type = r.validate(BackendTypeSchema, obj.type, [...path, 'type']);
  if (type === undefined) return undefined;

  const described = ctx.catalog.describe(type);
  if (!described) {
    // A remote plugin reports its interfaces when the proxy connects; only local ones must be known now.
    if (plugin.value.mode !== 'remote') {
      const known = ctx.catalog.types();
      const list = `known types: ${known.join(', ') || '(none)'}`;
      const typo = didYouMean(type, known);
      const shown = r.show([...path, 'type'], type);
      r.add(
        [...path, 'type'],
        typo
          ? `unknown backend type ${shown}${typo}; ${list}`
          : `unknown backend type ${shown}: no ${shown} adapter in this version of Prism (${list}); for a plugin from another package set plugin.package, or use plugin: { mode: remote, endpoint: ... }`,
      );
    }
  } else {
    const implemented = described.interfaces;
    for (const need of needs) {
      if (implemented.includes(need.flavour)) continue;
      const hint = knownFlavourNames().includes(need.flavour)
        ? ''
        : didYouMean(need.flavour, knownFlavourNames());
      r.add(
        need.path,
        `${label} "${type}" does not implement ${need.flavour} (${need.reason}); it implements ${implemented.join(', ') || 'nothing'}${hint}`,
        need.key,
      );
    }
    if (config && described.configSchema && plugin.value.mode !== 'remote')
      r.validate(described.configSchema, config, [...path, 'config']);
  }
  if (!config || !plugin.ok) return undefined;
  const secretPaths = referencedPaths(config, [...path, 'config'], r);
  const envNames = referencedEnv(formatPath([...path, 'config']), r);
  return {
    type,
    plugin: plugin.value,
    config,
    ...(secretPaths.length ? { secretPaths } : {}),
    ...(envNames.length ? { envNames } : {}),
  };
}

/** Environment variables referenced by strings at or under the formatted path `at` (sorted, unique). */
function referencedEnv(at: string, r: Reporter): string[] {
  const names = new Set<string>();
  for (const [where, text] of r.references)
    if (where === at || where.startsWith(`${at}.`) || where.startsWith(`${at}[`))
      for (const name of referencedEnvNames(text)) names.add(name);
  return [...names].sort();
}

/** Paths (relative to `value`) of the strings under `at` that came from `${env:}`/`${file:}` references. */
function referencedPaths(value: unknown, at: Path, r: Reporter, rel: Path = []): Path[] {
  if (typeof value === 'string') return r.references.has(formatPath([...at, ...rel])) ? [rel] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => referencedPaths(v, at, r, [...rel, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => referencedPaths(v, at, r, [...rel, k]));
  return [];
}

/** The plugin settings (mode always set, in_process by default) and whether all of them were valid. */
function checkPlugin(
  raw: unknown,
  path: Path,
  ctx: BackendContext,
): { value: BackendConfig['plugin']; ok: boolean } {
  const r = ctx.reporter;
  const obj = mapAt(raw, path, PLUGIN_KEYS, r, 'mode, endpoint, tls, package');
  if (!obj) return { value: { mode: 'in_process' }, ok: false };
  const mode: PluginMode | undefined =
    obj.mode === undefined ? 'in_process' : r.validate(ModeSchema, obj.mode, [...path, 'mode']);
  let ok = mode !== undefined;
  const out: BackendConfig['plugin'] = { mode: mode ?? 'in_process' };

  if (obj.endpoint !== undefined) {
    const endpoint = r.validate(EndpointSchema, obj.endpoint, [...path, 'endpoint']);
    if (endpoint === undefined) ok = false;
    else if (mode === 'in_process') {
      r.add(
        [...path, 'endpoint'],
        'an in_process plugin has no endpoint; use mode: remote (or sidecar) with it',
      );
      ok = false;
    } else if (!isHttpUrl(endpoint)) {
      r.add(
        [...path, 'endpoint'],
        `must be an http:// or https:// URL, e.g. https://plugins.internal:9443 (got ${r.show([...path, 'endpoint'], endpoint)})`,
      );
      ok = false;
    } else out.endpoint = endpoint;
  } else if (mode === 'remote') {
    r.add(path, 'a remote plugin needs an endpoint URL, e.g. endpoint: https://plugins.internal:9443');
    ok = false;
  }

  if (obj.tls !== undefined && obj.tls !== null) {
    const tls = checkTls(obj.tls, [...path, 'tls'], ctx);
    if (!tls) ok = false;
    else if (mode === 'in_process') {
      r.add(
        [...path, 'tls'],
        'an in_process plugin runs inside the proxy; tls applies to sidecar and remote plugins',
      );
      ok = false;
    } else if (out.endpoint?.startsWith('http://')) {
      r.add([...path, 'endpoint'], 'tls is set, so the endpoint must use https://');
      ok = false;
    } else out.tls = tls;
  }

  if (obj.package !== undefined) {
    const pkg = r.validate(PackageSchema, obj.package, [...path, 'package']);
    if (pkg === undefined) ok = false;
    else if (mode === 'remote') {
      r.add(
        [...path, 'package'],
        'a remote plugin is not loaded by the proxy; remove package or change the mode',
      );
      ok = false;
    } else out.package = pkg;
  }
  return { value: out, ok };
}

function checkTls(raw: unknown, path: Path, ctx: BackendContext): TlsConfig | undefined {
  const r = ctx.reporter;
  const tls = r.validate(TlsSchema, raw, path);
  if (!tls) return undefined;
  let ok = true;
  const out: TlsConfig = {};
  for (const key of ['ca', 'cert', 'key'] as const) {
    const p = tls[key];
    if (p === undefined) continue;
    const full = resolve(ctx.baseDir, p);
    try {
      accessSync(full, constants.R_OK);
      out[key] = full;
    } catch (err) {
      r.add([...path, key], `cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
      ok = false;
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    r.add(path, 'cert and key go together (mutual TLS): set both or neither');
    ok = false;
  }
  if (tls.server_name !== undefined) out.serverName = tls.server_name;
  if (tls.insecure_skip_verify !== undefined) out.insecureSkipVerify = tls.insecure_skip_verify;
  return ok ? out : undefined;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
