// Prism's shared filter language (prism.common.v1.Filter): validation with precise paths, and a compiler to a
// plain predicate over string fields. Every interface that accepts a Filter (pubsub_filtering, registries,
// document queries) validates with checkFilter and evaluates with compileFilter, so all backends agree on
// the semantics documented in proto/prism/common/v1/filter.proto and docs/filters.md.
import type { Filter } from '@prism/proto/prism/common/v1/filter_pb';
import { invalidArgument } from './errors.js';

export type { Filter } from '@prism/proto/prism/common/v1/filter_pb';

/** Bounds every Filter must respect (INVALID_ARGUMENT beyond them). */
export const FILTER_LIMITS = Object.freeze({
  /** Levels of nesting: a single condition is depth 1. */
  maxDepth: 16,
  /** Filter nodes in all (every condition, and/or/not counts one). */
  maxNodes: 1024,
  /** Operands of one and/or. */
  maxOperands: 256,
  /** Values of one `in`. */
  maxInValues: 1024,
  /** Characters of a field name. */
  maxFieldChars: 256,
  /** UTF-16 code units of all field names and string values together (~64 KiB). */
  maxStringChars: 64 * 1024,
});

/** The fields a filter is evaluated against: field name → string value. */
export type FilterFields = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** A compiled filter. */
export type FilterPredicate = (fields: FilterFields) => boolean;

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a field value as the filter language's number: optional sign, digits, optional fraction and
 * exponent ("42", "-1.5", "2e3", ".5"). Anything else (empty, spaces, hex, "NaN", "Infinity") is undefined.
 */
export function parseFilterNumber(value: string): number | undefined {
  if (!NUMBER_RE.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

interface Budget {
  nodes: number;
  chars: number;
}

/**
 * Throws INVALID_ARGUMENT unless `filter` is a valid Filter; messages start with the path of the offending
 * node (`filter.and[1].lt: field is required`). `path` names the request field holding the filter.
 */
export function checkFilter(filter: Filter | undefined, path = 'filter'): void {
  if (filter === undefined) throw invalidArgument(`${path} is required`);
  check(filter, path, 1, { nodes: 0, chars: 0 });
}

function check(f: Filter, path: string, depth: number, budget: Budget): void {
  if (depth > FILTER_LIMITS.maxDepth)
    throw invalidArgument(`${path}: filter nesting is deeper than ${FILTER_LIMITS.maxDepth} levels`);
  if (++budget.nodes > FILTER_LIMITS.maxNodes)
    throw invalidArgument(`${path}: filter has more than ${FILTER_LIMITS.maxNodes} nodes`);
  const c = f.condition;
  const at = `${path}.${c.case}`;
  const strings = (...s: string[]) => {
    for (const x of s) budget.chars += x.length;
    if (budget.chars > FILTER_LIMITS.maxStringChars)
      throw invalidArgument(
        `${at}: field names and values of the filter exceed ${FILTER_LIMITS.maxStringChars} characters in all`,
      );
  };
  switch (c.case) {
    case undefined:
      throw invalidArgument(
        `${path}: no condition set (use one of eq, ne, lt, le, gt, ge, startswith, in, exists, and, or, not)`,
      );
    case 'eq':
    case 'ne':
      checkField(c.value.field, at);
      strings(c.value.field, c.value.value);
      return;
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      checkField(c.value.field, at);
      if (!Number.isFinite(c.value.value))
        throw invalidArgument(`${at}: value must be a finite number (got ${c.value.value})`);
      strings(c.value.field);
      return;
    case 'startswith':
      checkField(c.value.field, at);
      strings(c.value.field, c.value.prefix);
      return;
    case 'in': {
      checkField(c.value.field, at);
      const n = c.value.values.length;
      if (n === 0) throw invalidArgument(`${at}: values must contain at least one value`);
      if (n > FILTER_LIMITS.maxInValues)
        throw invalidArgument(`${at}: values has ${n} entries; at most ${FILTER_LIMITS.maxInValues} allowed`);
      strings(c.value.field, ...c.value.values);
      return;
    }
    case 'exists':
      checkField(c.value.field, at);
      strings(c.value.field);
      return;
    case 'and':
    case 'or': {
      const ops = c.value.filters;
      if (ops.length === 0) throw invalidArgument(`${at}: filters must contain at least one filter`);
      if (ops.length > FILTER_LIMITS.maxOperands)
        throw invalidArgument(
          `${at}: filters has ${ops.length} entries; at most ${FILTER_LIMITS.maxOperands} allowed`,
        );
      ops.forEach((op, i) => {
        check(op, `${at}[${i}]`, depth + 1, budget);
      });
      return;
    }
    case 'not':
      check(c.value, at, depth + 1, budget);
      return;
    default: {
      const unknown: never = c;
      throw invalidArgument(`${path}: unknown condition ${(unknown as { case: string }).case}`);
    }
  }
}

function checkField(field: string, at: string): void {
  if (field.length === 0) throw invalidArgument(`${at}: field is required`);
  if (field.length > FILTER_LIMITS.maxFieldChars)
    throw invalidArgument(
      `${at}: field is ${field.length} characters; at most ${FILTER_LIMITS.maxFieldChars} allowed`,
    );
  if (CONTROL_RE.test(field)) throw invalidArgument(`${at}: field must not contain control characters`);
}

const lookup = (fields: FilterFields, name: string): string | undefined =>
  fields instanceof Map
    ? fields.get(name)
    : Object.hasOwn(fields, name)
      ? (fields as Readonly<Record<string, string>>)[name]
      : undefined;

/**
 * Compiles a filter into a predicate. Validates it first ({@link checkFilter}, INVALID_ARGUMENT), so a
 * compiled filter never throws while evaluating. Field lookups are own properties only ("constructor" is a
 * field like any other).
 */
export function compileFilter(filter: Filter | undefined, path = 'filter'): FilterPredicate {
  checkFilter(filter, path);
  return build(filter as Filter);
}

function numeric(field: string, test: (n: number) => boolean): FilterPredicate {
  return (fields) => {
    const raw = lookup(fields, field);
    if (raw === undefined) return false;
    const n = parseFilterNumber(raw);
    return n !== undefined && test(n);
  };
}

function build(f: Filter): FilterPredicate {
  const c = f.condition;
  switch (c.case) {
    case 'eq': {
      const { field, value } = c.value;
      return (fields) => lookup(fields, field) === value;
    }
    case 'ne': {
      const { field, value } = c.value;
      return (fields) => lookup(fields, field) !== value;
    }
    case 'lt': {
      const v = c.value.value;
      return numeric(c.value.field, (n) => n < v);
    }
    case 'le': {
      const v = c.value.value;
      return numeric(c.value.field, (n) => n <= v);
    }
    case 'gt': {
      const v = c.value.value;
      return numeric(c.value.field, (n) => n > v);
    }
    case 'ge': {
      const v = c.value.value;
      return numeric(c.value.field, (n) => n >= v);
    }
    case 'startswith': {
      const { field, prefix } = c.value;
      return (fields) => lookup(fields, field)?.startsWith(prefix) ?? false;
    }
    case 'in': {
      const field = c.value.field;
      const values = new Set(c.value.values);
      return (fields) => {
        const v = lookup(fields, field);
        return v !== undefined && values.has(v);
      };
    }
    case 'exists': {
      const field = c.value.field;
      return (fields) => lookup(fields, field) !== undefined;
    }
    case 'and': {
      const ops = c.value.filters.map(build);
      return (fields) => ops.every((op) => op(fields));
    }
    case 'or': {
      const ops = c.value.filters.map(build);
      return (fields) => ops.some((op) => op(fields));
    }
    case 'not': {
      const op = build(c.value);
      return (fields) => !op(fields);
    }
    default:
      // Unreachable after checkFilter.
      throw invalidArgument('filter: no condition set');
  }
}

/**
 * The field names a filter reads. Lets adapters that can
 * push parts of a filter down (headers, indexes) know what to fetch; informative only.
 */
export function filterFields(filter: Filter): ReadonlySet<string> {
  const out = new Set<string>();
  const walk = (f: Filter): void => {
    const c = f.condition;
    if (c.case === undefined) return;
    if (c.case === 'and' || c.case === 'or') c.value.filters.forEach(walk);
    else if (c.case === 'not') walk(c.value);
    else out.add(c.value.field);
  };
  walk(filter);
  return out;
}
