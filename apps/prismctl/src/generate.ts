import { isModel, MODELS, parseFlavour } from '@prism/config';
import { CheckFailedError, UsageError } from './io.js';
import {
  type BackendInfo,
  backendsImplementing,
  checkFlavourNames,
  EMBEDDED_BACKENDS,
  starterConfig,
} from './metadata.js';
import { didYouMean } from './output.js';

/** Input of {@link generateConfig}: what `prismctl generate config` is asked for. */
export interface GenerateOptions {
  /** A data model (`keyvalue`, `pubsub`, ...): the namespace's pattern. */
  readonly model: string;
  /** Features (`ttl`) or flavours (`keyvalue_ttl`) the namespace needs besides `<model>_basic`. */
  readonly needs?: readonly string[];
  /** Namespace name; default: the model. */
  readonly name?: string;
  /** Use this backend type instead of the recommended one. */
  readonly backend?: string;
  /** Prefer an embedded backend (memstore, sqlite): local development and tests. */
  readonly embedded?: boolean;
}

/** A backend that would also do, listed as a comment in the YAML. */
export interface Alternative {
  readonly type: string;
  readonly embedded: boolean;
}

/** The generated namespace (`--json` prints this). */
export interface GeneratedConfig {
  /** A complete config file (`namespaces:` with one namespace). */
  readonly yaml: string;
  readonly name: string;
  readonly model: string;
  /** Every flavour the backend must implement, `<model>_basic` first. */
  readonly needs: readonly string[];
  /** The chosen backend type. */
  readonly backend: string;
  readonly embedded: boolean;
  /** Why that backend was chosen. */
  readonly reason: string;
  /** Other installed backends implementing every needed flavour. */
  readonly alternatives: readonly Alternative[];
}

const EMBEDDED_NOTE: Readonly<Record<string, string>> = {
  memstore: 'embedded: in the proxy process memory, lost on restart, not shared between replicas',
  sqlite: 'embedded: a local file per proxy process, not shared between replicas',
};

/** Flavours asked for: `ttl` → `keyvalue_ttl`; a full flavour must be of the same model. */
function resolveNeeds(model: string, needs: readonly string[]): string[] {
  const out = [`${model}_basic`];
  for (const n of needs) {
    const p = parseFlavour(n);
    if (p && p.model !== model)
      throw new UsageError(
        `a ${model} namespace cannot need ${n}: a namespace has one model (use a ${p.model} namespace for it)`,
      );
    if (!p && !/^[a-z0-9]+(_[a-z0-9]+)*$/.test(n))
      throw new UsageError(`--needs: "${n}" is not a feature name (lower_snake_case, e.g. ttl)`);
    const flavour = p ? n : `${model}_${n}`;
    if (!out.includes(flavour)) out.push(flavour);
  }
  return out;
}

/** A YAML flow-style scalar, list or map (strings double-quoted, JSON escapes being valid YAML). */
export function flowYaml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowYaml).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([k, v]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)}: ${flowYaml(v)}`,
    );
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `{ type: x, config: {...} }` for a backend, config left out when empty or unknown. */
function backendFlow(type: string, name: string): string {
  const config = starterConfig(type, name);
  const plain = /^[a-z][a-z0-9-]*$/.test(type) && !['true', 'false', 'null'].includes(type);
  const parts = [`type: ${plain ? type : JSON.stringify(type)}`];
  if (config && Object.keys(config).length) parts.push(`config: ${flowYaml(config)}`);
  return `{ ${parts.join(', ')} }`;
}

function chooseBackend(
  opts: GenerateOptions,
  needs: readonly string[],
  backends: readonly BackendInfo[],
): { chosen: BackendInfo; reason: string; fitting: BackendInfo[] } {
  const fitting = backendsImplementing(backends, needs);
  if (opts.backend !== undefined) {
    const b = backends.find((x) => x.type === opts.backend);
    if (!b)
      throw new UsageError(
        `unknown backend type "${opts.backend}"${didYouMean(
          opts.backend,
          backends.map((x) => x.type),
        )}; known types: ${backends.map((x) => x.type).join(', ')}`,
      );
    if (!b.installed) throw new CheckFailedError(`backend ${b.type}: ${b.note ?? 'not installed'}`);
    const missing = needs.filter((n) => !b.interfaces.includes(n));
    if (missing.length)
      throw new CheckFailedError(
        `backend ${b.type} does not implement ${missing.join(', ')}; backends implementing ${needs.join(', ')}: ${fitting.map((x) => x.type).join(', ') || 'none'}`,
      );
    return { chosen: b, reason: 'asked for with --backend', fitting };
  }
  if (!fitting.length) {
    const partial = backends
      .filter((b) => b.installed && b.interfaces.includes(needs[0]!))
      .map((b) => `${b.type} lacks ${needs.filter((n) => !b.interfaces.includes(n)).join(', ')}`);
    throw new CheckFailedError(
      `no installed backend implements all of ${needs.join(', ')}${partial.length ? ` (${partial.join('; ')})` : ''}`,
    );
  }
  const servers = fitting.filter((b) => !b.embedded);
  const embedded = fitting.filter((b) => b.embedded);
  if (opts.embedded) {
    if (embedded[0])
      return {
        chosen: embedded[0],
        reason: 'the first embedded backend implementing all of them (--embedded)',
        fitting,
      };
    return {
      chosen: servers[0]!,
      reason: 'no embedded backend implements all of them (--embedded), so the first server backend',
      fitting,
    };
  }
  if (servers[0])
    return {
      chosen: servers[0],
      reason: 'the first server backend implementing all of them (embedded ones only with --embedded)',
      fitting,
    };
  return { chosen: embedded[0]!, reason: 'only embedded backends implement all of them', fitting };
}

/**
 * Generates a config file with one namespace of `model` needing `needs`, on the recommended backend:
 * the first installed backend (in the proxy's backend order) implementing every needed flavour, a server
 * backend unless `embedded` is set or only embedded ones fit (embedded data is private to one proxy
 * process). The other fitting backends are listed as comments. Throws a {@link UsageError} for bad input
 * and a {@link CheckFailedError} when no backend (or not the one asked for) fits.
 */
export function generateConfig(opts: GenerateOptions, backends: readonly BackendInfo[]): GeneratedConfig {
  if (!isModel(opts.model))
    throw new UsageError(
      `--model must be a data model (${MODELS.join(', ')})${didYouMean(opts.model, MODELS)}; slot patterns are not served by this proxy version`,
    );
  const needs = checkFlavourNames(resolveNeeds(opts.model, opts.needs ?? []), backends);
  const name = opts.name ?? opts.model;
  const { chosen, reason, fitting } = chooseBackend(opts, needs, backends);
  // Server backends first, then embedded ones, each in the backend order.
  const alternatives = fitting
    .filter((b) => b !== chosen)
    .sort((a, b) => Number(a.embedded) - Number(b.embedded))
    .map((b) => ({ type: b.type, embedded: b.embedded }));
  const features = needs.slice(1).map((n) => parseFlavour(n)?.feature ?? n);
  const command = [
    'prismctl generate config',
    `--model ${opts.model}`,
    ...(features.length ? [`--needs ${features.join(',')}`] : []),
    ...(opts.name ? [`--name ${opts.name}`] : []),
    ...(opts.backend ? [`--backend ${opts.backend}`] : []),
    ...(opts.embedded ? ['--embedded'] : []),
  ].join(' ');
  const config = starterConfig(chosen.type, name);
  const lines = [
    `# Generated by: ${command}`,
    `# A ${opts.model} namespace; its backend must implement ${needs.join(', ')}.`,
    `# Backend ${chosen.type}: ${reason}.`,
    ...(EMBEDDED_NOTE[chosen.type] ? [`# ${chosen.type} is ${EMBEDDED_NOTE[chosen.type]}.`] : []),
    '# Check: prismctl validate <file>. Run: prism-proxy --config <file>.',
    'namespaces:',
    `  - name: ${name}`,
    `    pattern: ${opts.model}`,
    ...(features.length
      ? [`    needs: ${flowYaml(Object.fromEntries(features.map((f) => [f, true])))}`]
      : []),
    '    backend:',
    `      type: ${chosen.type}`,
    ...(config === undefined
      ? [`      # TODO: config: the settings of ${chosen.type} (see its package README)`]
      : Object.keys(config).length
        ? [`      config: ${flowYaml(config)} # local default: adjust; secrets as \${env:NAME}`]
        : []),
  ];
  if (alternatives.length) {
    lines.push('    # Also implementing all of them (replace backend: with one):');
    for (const a of alternatives) {
      const note = EMBEDDED_NOTE[a.type] ?? (EMBEDDED_BACKENDS.includes(a.type) ? 'embedded' : '');
      lines.push(`    # backend: ${backendFlow(a.type, name)}${note ? ` # ${note}` : ''}`);
    }
  }
  return {
    yaml: `${lines.join('\n')}\n`,
    name,
    model: opts.model,
    needs,
    backend: chosen.type,
    embedded: chosen.embedded,
    reason,
    alternatives,
  };
}
