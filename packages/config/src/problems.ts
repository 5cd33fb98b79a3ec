/** One thing wrong with a config file, located as precisely as the YAML allows. */
export interface ConfigProblem {
  file: string;
  /** 1-based line of the offending node (missing fields point at their parent). */
  line?: number;
  /** 1-based column of the offending node. */
  column?: number;
  /** Name of the namespace the problem is in, when known. */
  namespace?: string;
  /** Path of the field as written in YAML, e.g. `namespaces[1].backend.type`. */
  field: string;
  message: string;
}

/** Renders one problem as `file:line:col: field: namespace "x": message`. */
export function formatProblem(p: ConfigProblem): string {
  const where =
    p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  const ns = p.namespace === undefined ? '' : `namespace "${p.namespace}": `;
  return `${where}: ${p.field || '(root)'}: ${ns}${p.message}`;
}

/** Every problem found in a config file; the message lists them one per line. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const file = problems[0]?.file ?? '(config)';
    const n = problems.length;
    super(
      `invalid Prism config ${file} (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
