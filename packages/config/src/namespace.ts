import type { Limits } from '@prism/sdk';
import { type BackendContext, checkBackend, type Need } from './backend.js';
import type { Path } from './path.js';
import {
  isModel,
  knownFlavourNames,
  PATTERN_ALIASES,
  PATTERNS,
  PLANNED_PATTERNS,
  parseFlavour,
  SLOT_PATTERNS,
} from './patterns.js';
import type { Reporter } from './reporter.js';
import { bool, mapAt, NameSchema, NamespaceLimitsSchema, NeedsListSchema, PatternSchema } from './schemas.js';
import { checkAccess, checkRate } from './security.js';
import { didYouMean } from './suggest.js';
import type { BackendConfig, NamespaceConfig } from './types.js';

const NAMESPACE_KEYS = ['name', 'pattern', 'needs', 'limits', 'access', 'backend', 'slots', 'per_worker'];

/** Checks one item of `namespaces:`. `proxyLimits` are the proxy's (already over DEFAULT_LIMITS). */
export function checkNamespace(
  raw: unknown,
  path: Path,
  proxyLimits: Limits,
  ctx: BackendContext,
): NamespaceConfig | undefined {
  const r = ctx.reporter;
  const obj = mapAt(raw, path, NAMESPACE_KEYS, r, `name, pattern, backend, ...`, false);
  if (!obj) return undefined;
  const at = (k: string): Path => [...path, k];

  const name =
    obj.name === undefined ? missing(r, path, 'name') : r.validate(NameSchema, obj.name, at('name'));
  const rawLimits = obj.limits === null ? undefined : obj.limits;
  const own = rawLimits === undefined ? {} : r.validate(NamespaceLimitsSchema, rawLimits, at('limits'));
  const rate =
    own?.rate === undefined || own.rate === null
      ? undefined
      : checkRate(own.rate, [...at('limits'), 'rate'], r);
  const access = checkAccess(obj.access, at('access'), r);
  const perWorker =
    obj.per_worker === undefined ? undefined : r.validate(bool, obj.per_worker, at('per_worker'));
  const limits: Limits = {
    maxKeyBytes: own?.max_key_bytes ?? proxyLimits.maxKeyBytes,
    maxValueBytes: own?.max_value_bytes ?? proxyLimits.maxValueBytes,
  };

  if (obj.pattern === undefined) {
    missing(r, path, 'pattern', ` (one of: ${PATTERNS.join(', ')})`);
    return undefined;
  }
  const pattern = r.validate(PatternSchema, obj.pattern, at('pattern'));
  if (pattern === undefined) return undefined;

  let needs: string[] = [];
  let backend: BackendConfig | undefined;
  let slots: Record<string, BackendConfig> | undefined;
  let ok = name !== undefined && own !== undefined;

  if (isModel(pattern)) {
    if (obj.slots !== undefined)
      r.add(
        at('slots'),
        `pattern ${pattern} uses one backend; slots are for ${Object.keys(SLOT_PATTERNS).join(', ')}`,
        true,
      );
    const resolved = resolveNeeds(pattern, obj.needs, at('needs'), at('pattern'), r);
    needs = resolved?.map((n) => n.flavour) ?? [];
    if (obj.backend === undefined || obj.backend === null) {
      r.add(path, `pattern ${pattern} needs a backend, e.g. backend: { type: memstore }`);
      ok = false;
    } else {
      // With broken `needs`, still check the basic flavour so a wrong backend is reported too.
      const basic: Need = { flavour: `${pattern}_basic`, reason: `pattern ${pattern}`, path: at('pattern') };
      backend = checkBackend(obj.backend, at('backend'), resolved ?? [basic], ctx);
      ok &&= backend !== undefined && resolved !== undefined;
    }
  } else if (SLOT_PATTERNS[pattern]) {
    for (const k of ['backend', 'needs'] as const)
      if (obj[k] !== undefined)
        r.add(
          at(k),
          `pattern ${pattern} fills slots (${Object.keys(SLOT_PATTERNS[pattern]).join(', ')}), not ${k}`,
          true,
        );
    slots = checkSlots(pattern, obj.slots, at('slots'), path, ctx);
    ok &&= slots !== undefined;
  } else {
    r.add(at('pattern'), unknownPattern(pattern, r.show(at('pattern'), pattern)));
    // Still check what it would run on, so a missing adapter or a config typo shows up in the same pass.
    if (obj.backend !== undefined && obj.backend !== null) checkBackend(obj.backend, at('backend'), [], ctx);
    if (obj.slots !== undefined && obj.slots !== null) {
      const names = typeof obj.slots === 'object' ? Object.keys(obj.slots) : [];
      const slots = mapAt(obj.slots, at('slots'), names, r, 'slot name → backend', false);
      for (const [slot, raw] of Object.entries(slots ?? {}))
        checkBackend(raw, [...at('slots'), slot], [], ctx, `slot "${slot}": backend`);
    }
    return undefined;
  }

  if (!ok || name === undefined) return undefined;
  const line = r.locate(path)?.line ?? 0;
  return {
    name,
    pattern,
    needs,
    ...(backend && { backend }),
    ...(slots && { slots }),
    limits,
    access,
    ...(rate && { rate }),
    ...(own?.max_concurrent !== undefined && { maxConcurrent: own.max_concurrent }),
    ...(perWorker && { perWorker }),
    source: { file: r.file, line },
  };
}

/** Why `pattern` is unknown: a name of the design documents, a pattern not in this version, or a typo. */
function unknownPattern(pattern: string, shown: string): string {
  const known = `; known patterns: ${PATTERNS.join(', ')}`;
  const alias = PATTERN_ALIASES[pattern];
  if (alias !== undefined && PATTERNS.includes(alias))
    return `unknown pattern ${shown} (the design documents' name for "${alias}": use pattern: ${alias})${known}`;
  const planned = PLANNED_PATTERNS[alias ?? pattern];
  if (planned !== undefined)
    return `unknown pattern ${shown}${alias ? ` (the design documents' name for "${alias}")` : ''}: not in this version of Prism (${planned}; planned, not implemented yet)${known}`;
  return `unknown pattern ${shown}${didYouMean(pattern, PATTERNS)}${known}`;
}

function missing(r: Reporter, path: Path, key: string, hint = ''): undefined {
  r.add(path, `missing required "${key}"${hint}`);
  return undefined;
}

/**
 * Flavours a single-backend namespace needs: always `<model>_basic`, then `needs` as a map
 * (`{ttl: true}` → `<model>_ttl`) or as a list of flavour names taken as they are.
 */
function resolveNeeds(
  model: string,
  raw: unknown,
  path: Path,
  patternPath: Path,
  r: Reporter,
): Need[] | undefined {
  const out: Need[] = [{ flavour: `${model}_basic`, reason: `pattern ${model}`, path: patternPath }];
  const add = (n: Need) => {
    if (!out.some((o) => o.flavour === n.flavour)) out.push(n);
  };
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    const list = r.validate(NeedsListSchema, raw, path);
    if (!list) return undefined;
    let ok = true;
    list.forEach((flavour, i) => {
      if (parseFlavour(flavour)) add({ flavour, reason: `needs[${i}]`, path: [...path, i] });
      else {
        // A bare feature (`ttl`) is the usual slip: suggest it with this pattern's model.
        const guess = /^[a-z0-9]+$/.test(flavour)
          ? ` (did you mean "${model}_${flavour}"?)`
          : didYouMean(flavour, knownFlavourNames());
        r.add(
          [...path, i],
          `unknown flavour "${flavour}"${guess}; flavours are <model>_<feature>, e.g. keyvalue_ttl`,
        );
        ok = false;
      }
    });
    return ok ? out : undefined;
  }
  if (typeof raw === 'object') {
    let ok = true;
    for (const [feature, value] of Object.entries(raw)) {
      // The design documents' `needs` also hold service levels (`latency: <1ms`, `consistency: strong`).
      const level =
        (typeof value === 'string' || typeof value === 'number') &&
        !bool.safeParse(value).success &&
        !knownFlavourNames().includes(`${model}_${feature}`);
      if (level)
        r.add(
          [...path, feature],
          `must be true or false: needs names interface features the backend must implement (e.g. ttl: true); "${feature}" reads like a service level, which Prism does not check: choose a backend that meets it and remove the key`,
        );
      const wanted = level ? undefined : r.validate(bool, value, [...path, feature]);
      if (!/^[a-z0-9]+(_[a-z0-9]+)*$/.test(feature)) {
        r.add([...path, feature], `"${feature}" is not a feature name (lower_snake_case, e.g. ttl)`, true);
        ok = false;
      } else if (wanted === undefined) ok = false;
      else if (wanted)
        add({
          flavour: `${model}_${feature}`,
          reason: `needs.${feature}`,
          path: [...path, feature],
          key: true,
        });
    }
    return ok ? out : undefined;
  }
  r.add(
    path,
    `must be a map of features (e.g. { ttl: true, scan: true }) or a list of flavours (e.g. [${model}_ttl])`,
  );
  return undefined;
}

function checkSlots(
  pattern: string,
  raw: unknown,
  path: Path,
  nsPath: Path,
  ctx: BackendContext,
): Record<string, BackendConfig> | undefined {
  const r = ctx.reporter;
  const spec = SLOT_PATTERNS[pattern]!;
  const names = Object.keys(spec);
  if (raw === undefined || raw === null) {
    r.add(nsPath, `pattern ${pattern} needs slots: ${names.filter((n) => !spec[n]!.optional).join(', ')}`);
    return undefined;
  }
  const obj = mapAt(raw, path, names, r, `slots of ${pattern}: ${names.join(', ')}`, false);
  if (!obj) return undefined;
  const out: Record<string, BackendConfig> = {};
  let ok = true;
  for (const [slot, s] of Object.entries(spec)) {
    if (obj[slot] === undefined) {
      if (!s.optional) {
        r.add(path, `missing slot "${slot}" (${s.description}; needs ${s.needs.join(', ')})`);
        ok = false;
      }
      continue;
    }
    const slotPath = [...path, slot];
    const needs = s.needs.map((flavour) => ({
      flavour,
      reason: `slot ${slot} of ${pattern}`,
      path: [...slotPath, 'type'],
    }));
    const backend = checkBackend(obj[slot], slotPath, needs, ctx, `slot "${slot}": backend`);
    if (backend) out[slot] = backend;
    else ok = false;
  }
  return ok && Object.keys(obj).every((k) => names.includes(k)) ? out : undefined;
}
