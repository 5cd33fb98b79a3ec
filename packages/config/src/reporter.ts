import type { z } from '@prism/sdk';
import { formatPath, type Path } from './path.js';
import type { ConfigProblem } from './problems.js';
import type { YamlSource } from './source.js';
import { didYouMean } from './suggest.js';

/** Collects problems while a config is checked, locating each one in the YAML source. */
export class Reporter {
  readonly problems: ConfigProblem[] = [];
  /** Namespace names by list index, filled in once known, so problems can name their namespace. */
  readonly namespaceNames: (string | undefined)[] = [];
  /** Resolved env values and file contents: never shown in messages. */
  readonly secrets = new Set<string>();
  /** Formatted path → original string for values that came from `${...}` references. */
  readonly references = new Map<string, string>();
  /** Formatted paths whose reference could not be resolved: later checks of them would only add noise. */
  readonly unresolved = new Set<string>();

  constructor(
    readonly file: string,
    private readonly source?: YamlSource,
  ) {}

  /** Line and column of the node at `path` (or its deepest existing parent). */
  locate(path: Path, key = false): { line: number; column: number } | undefined {
    return this.source?.locate(path, key);
  }

  /** Records a problem at `path` (`key` = point at the map key rather than its value). */
  add(path: Path, message: string, key = false): void {
    if (this.unresolved.has(formatPath(path))) return;
    const at = this.locate(path, key);
    const ns =
      path[0] === 'namespaces' && typeof path[1] === 'number' ? this.namespaceNames[path[1]] : undefined;
    this.problems.push({
      file: this.file,
      ...(at && { line: at.line, column: at.column }),
      ...(ns !== undefined && { namespace: ns }),
      field: formatPath(path),
      message: this.scrub(message),
    });
  }

  /** Records a problem at a position that has no path (YAML syntax errors). */
  addAt(line: number, column: number, message: string): void {
    this.problems.push({ file: this.file, line, column, field: '', message });
  }

  /** Reports an unknown key, suggesting the closest allowed one. */
  unknownKey(path: Path, allowed: readonly string[]): void {
    const key = String(path[path.length - 1]);
    const hint = didYouMean(key, allowed) || `; allowed keys: ${allowed.join(', ') || '(none)'}`;
    this.add(path, `unknown key "${key}"${hint}`, true);
  }

  /** A value as it may appear in a message: quoted, or its reference text when it came from one. */
  show(path: Path, value: unknown): string {
    const ref = this.references.get(formatPath(path));
    return ref === undefined ? JSON.stringify(value) : `(the value of ${ref})`;
  }

  /** Parses `value` with a zod schema; on failure records every issue at its path and returns undefined. */
  validate<S extends z.ZodType>(schema: S, value: unknown, path: Path): z.output<S> | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const at = [...path, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
      if (issue.code === 'unrecognized_keys') {
        const allowed = keysAt(schema, issue.path);
        for (const k of issue.keys) this.unknownKey([...at, k], allowed);
      } else this.add(at, issue.message);
    }
    return undefined;
  }

  private scrub(message: string): string {
    let out = message;
    for (const s of this.secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  }
}

interface DefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
}

const defOf = (schema: unknown): DefLike | undefined =>
  (schema as { _zod?: { def?: DefLike } } | undefined)?._zod?.def;

/** Keys an object schema allows at `path` (walks through optional/default/pipe wrappers), for suggestions. */
function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let def = defOf(schema);
  let i = 0;
  while (def) {
    if (def.innerType !== undefined) def = defOf(def.innerType);
    else if (def.type === 'pipe') def = defOf(def.in);
    else if (i === path.length) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    else if (def.type === 'object' && def.shape) def = defOf(def.shape[String(path[i++])]);
    else if (def.type === 'array') {
      def = defOf(def.element);
      i++;
    } else return [];
  }
  return [];
}
