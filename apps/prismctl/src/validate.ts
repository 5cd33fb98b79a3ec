import {
  type BackendConfig,
  ConfigError,
  type ConfigProblem,
  formatProblem,
  type NamespaceConfig,
  type PluginMode,
  type PrismConfig,
  SLOT_PATTERNS,
} from '@prism/config';
import { loadProxyConfig, type PluginCatalog, UnservedConfigError } from '@prism/proxy';
import { formatPairs, mark } from './output.js';

/**
 * Whether a backend implements one interface flavour; `null` when it cannot be known before the proxy
 * connects (a remote plugin of a type the proxy does not ship).
 */
export interface InterfaceCheck {
  readonly interface: string;
  readonly implemented: boolean | null;
}

/** The backend of a namespace or slot, as configured. */
export interface BackendSummary {
  readonly type: string;
  readonly mode: PluginMode;
  readonly endpoint?: string;
}

/** One slot of a slot-pattern namespace: its backend and the required and optional interfaces. */
export interface SlotReport {
  readonly slot: string;
  readonly description: string;
  /** Whether the pattern lets the namespace leave the slot out. */
  readonly optional: boolean;
  /** Undefined when an optional slot is not filled. */
  readonly backend?: BackendSummary;
  readonly required: readonly InterfaceCheck[];
  readonly optionalInterfaces: readonly InterfaceCheck[];
}

/** One validated namespace. */
export interface NamespaceReport {
  readonly name: string;
  readonly pattern: string;
  /** Line of the namespace in the file. */
  readonly line: number;
  /** False when the proxy refuses to start it (slot patterns, today). */
  readonly served: boolean;
  /** Single-backend patterns. */
  readonly backend?: BackendSummary;
  /** Flavours the backend must implement (`<model>_basic` and `needs`); empty for slot patterns. */
  readonly needs: readonly InterfaceCheck[];
  /** Slot patterns. */
  readonly slots?: readonly SlotReport[];
}

/** What `prismctl validate` found (`--json` prints this). */
export interface ValidationReport {
  /** The file as given. */
  readonly file: string;
  /** True when the proxy would load and start the config. */
  readonly ok: boolean;
  /** The namespaces of a valid config (also when it is not served); empty when it is invalid. */
  readonly namespaces: readonly NamespaceReport[];
  /** Every problem, with file, line and field (what the proxy prints when it refuses the config). */
  readonly problems: readonly ConfigProblem[];
  /** A failure that is not a config problem (unreadable file, adapter that cannot be imported). */
  readonly error?: string;
}

/** Result of {@link validateConfig}: the report and its human rendering. */
export interface ValidationResult {
  readonly ok: boolean;
  /** Human-readable summary of a valid config, or every problem. */
  readonly text: string;
  /** The report of a valid config (empty on failure); on stdout. */
  readonly report: string;
  /** The problems, on stderr; empty when ok. */
  readonly problems: string;
  readonly json: ValidationReport;
}

function summarize(b: BackendConfig): BackendSummary {
  return { type: b.type, mode: b.plugin.mode, ...(b.plugin.endpoint ? { endpoint: b.plugin.endpoint } : {}) };
}

function check(catalog: PluginCatalog, type: string, flavours: readonly string[]): InterfaceCheck[] {
  const implemented = catalog.describe(type)?.interfaces;
  return flavours.map((f) => ({ interface: f, implemented: implemented ? implemented.includes(f) : null }));
}

function reportNamespace(ns: NamespaceConfig, catalog: PluginCatalog): NamespaceReport {
  const base = { name: ns.name, pattern: ns.pattern, line: ns.source.line };
  if (ns.backend)
    return {
      ...base,
      served: true,
      backend: summarize(ns.backend),
      needs: check(catalog, ns.backend.type, ns.needs),
    };
  const spec = SLOT_PATTERNS[ns.pattern] ?? {};
  const slots = Object.entries(spec).map(([slot, s]): SlotReport => {
    const b = ns.slots?.[slot];
    const wanted = s.optionalNeeds ?? [];
    return {
      slot,
      description: s.description,
      optional: s.optional === true,
      ...(b ? { backend: summarize(b) } : {}),
      required: b
        ? check(catalog, b.type, s.needs)
        : s.needs.map((f) => ({ interface: f, implemented: null })),
      optionalInterfaces: b
        ? check(catalog, b.type, wanted)
        : wanted.map((f) => ({ interface: f, implemented: null })),
    };
  });
  return { ...base, served: false, needs: [], slots };
}

const where = (b: BackendSummary) => `${b.type} (${b.mode}${b.endpoint ? ` ${b.endpoint}` : ''})`;

/** Width of the `✓ name` column of a group of checks. */
const labelWidth = (checks: readonly InterfaceCheck[]) =>
  Math.max(0, ...checks.map((c) => c.interface.length + 2));

function checkLines(type: string, checks: readonly InterfaceCheck[], indent: string, width = 0): string {
  const why = (c: InterfaceCheck) =>
    c.implemented === null
      ? '(checked when the proxy connects to the plugin)'
      : `(${type} ${c.implemented ? 'implements' : 'does not implement'})`;
  return formatPairs(
    checks.map((c) => [`${mark(c.implemented)} ${c.interface}`, why(c)]),
    indent,
    width,
  );
}

/** Renders the seeds' slot/interface report of a valid config, one block per namespace. */
export function renderReport(namespaces: readonly NamespaceReport[]): string {
  const lines: string[] = [];
  for (const ns of namespaces) {
    if (ns.backend) {
      lines.push(
        `  ${ns.name}: ${ns.pattern} on ${where(ns.backend)}; needs ${ns.needs.map((n) => n.interface).join(', ')}`,
        '    Required interfaces:',
        checkLines(ns.backend.type, ns.needs, '      '),
      );
      continue;
    }
    const slots = ns.slots ?? [];
    lines.push(`  ${ns.name}: ${ns.pattern} on slots (${slots.map((s) => s.slot).join(', ')})`);
    for (const s of slots) {
      lines.push(`    Slot: ${s.slot}${s.optional ? ' (optional)' : ''}: ${s.description}`);
      if (!s.backend) {
        lines.push('      Backend: not set');
        continue;
      }
      const width = labelWidth([...s.required, ...s.optionalInterfaces]);
      lines.push(`      Backend: ${where(s.backend)}`, '      Required interfaces:');
      lines.push(checkLines(s.backend.type, s.required, '        ', width));
      if (s.optionalInterfaces.length)
        lines.push(
          '      Optional interfaces:',
          checkLines(s.backend.type, s.optionalInterfaces, '        ', width),
        );
    }
    if (!ns.served)
      lines.push(`    ${mark(false)} pattern ${ns.pattern} is not served by this proxy version`);
  }
  return lines.join('\n');
}

function build(
  file: string,
  config: PrismConfig,
  catalog: PluginCatalog,
  problems: readonly ConfigProblem[],
) {
  const namespaces = config.namespaces.map((ns) => reportNamespace(ns, catalog));
  const json: ValidationReport = { file, ok: problems.length === 0, namespaces, problems };
  const n = namespaces.length;
  const unserved = namespaces.filter((ns) => !ns.served).length;
  const header = json.ok
    ? `${file}: OK, ${n} namespace(s)`
    : `${file}: FAILED, ${unserved} of ${n} namespace(s) not served by this proxy version (the proxy refuses to start it)`;
  const report = `${header}\n${renderReport(namespaces)}`.trimEnd();
  const problemText = problems.map((p) => formatProblem(p)).join('\n');
  return {
    ok: json.ok,
    text: json.ok ? report : `${report}\n${problemText}`,
    report,
    problems: problemText,
    json,
  };
}

/**
 * Loads a namespace YAML with the proxy's own loader (`loadProxyConfig`: adapters, config schemas,
 * `needs`, and whether this proxy version serves every pattern) without starting anything, and reports
 * per namespace its pattern, backend and each required interface (per slot for slot patterns, with the
 * optional interfaces too). `ok` is the proxy's verdict: false when the proxy would refuse the file.
 */
export async function validateConfig(file: string, catalog?: PluginCatalog): Promise<ValidationResult> {
  try {
    const loaded = await loadProxyConfig(file, catalog);
    return build(file, loaded.config, loaded.catalog, []);
  } catch (err) {
    if (err instanceof UnservedConfigError) return build(file, err.config, err.catalog, err.problems);
    const text = err instanceof ConfigError ? err.message : `${file}: ${(err as Error).message}`;
    const json: ValidationReport =
      err instanceof ConfigError
        ? { file, ok: false, namespaces: [], problems: err.problems }
        : { file, ok: false, namespaces: [], problems: [], error: (err as Error).message };
    return { ok: false, text, report: '', problems: text, json };
  }
}
