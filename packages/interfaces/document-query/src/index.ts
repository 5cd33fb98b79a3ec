import { createHash } from 'node:crypto';
import { toJson } from '@bufbuild/protobuf';
import { hasControlCharacters, type JsonObject, type JsonValue } from '@prism/document-basic';
import { type Filter, FilterSchema } from '@prism/proto/prism/common/v1/filter_pb';
import {
  DocumentQueryInterface,
  type QueryRequest,
  type SortKey,
} from '@prism/proto/prism/document/v1/document_query_pb';
import {
  checkFilter,
  compileFilter,
  defineInterface,
  type FilterPredicate,
  type InterfaceImpl,
  invalidArgument,
} from '@prism/sdk';

// The JSON types are document_basic's: a query reads the documents it stores.
export type { JsonObject, JsonValue } from '@prism/document-basic';
export * from '@prism/proto/prism/document/v1/document_query_pb';
/** A value a path can be present with: a string, number or boolean. */
export type Scalar = string | number | boolean;

/** Bounds of a query (INVALID_ARGUMENT beyond them). */
export const QUERY_LIMITS = Object.freeze({
  maxSortKeys: 8,
  maxProjection: 64,
  defaultLimit: 100,
  maxLimit: 1000,
  maxPathChars: 256,
});

/** The field name of a document's id in filters and sort keys. */
export const ID_FIELD = '_id';

/**
 * Splits a field path into member names: names are joined by '.', and '\' escapes a '.' or '\' inside a
 * name. INVALID_ARGUMENT (naming `field`) for an empty path or name, a dangling or unknown escape, control
 * characters or more than 256 characters.
 */
export function parsePath(path: string, field = 'path'): string[] {
  if (path.length === 0) throw invalidArgument(`${field} must not be empty`);
  if (path.length > QUERY_LIMITS.maxPathChars)
    throw invalidArgument(
      `${field} is ${path.length} characters; at most ${QUERY_LIMITS.maxPathChars} allowed`,
    );
  if (hasControlCharacters(path)) throw invalidArgument(`${field} must not contain control characters`);
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\') {
      const next = path[i + 1];
      if (next !== '.' && next !== '\\')
        throw invalidArgument(
          `${field} "${path}": '\\' at position ${i} must be followed by '.' or '\\' (it escapes them inside a name)`,
        );
      cur += next;
      i++;
    } else if (c === '.') {
      if (cur.length === 0) throw invalidArgument(`${field} "${path}": empty name at position ${i}`);
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.length === 0) throw invalidArgument(`${field} "${path}": empty name at the end`);
  out.push(cur);
  return out;
}

/** Escapes one member name for a path ('.' and '\' get a '\'). */
export const escapeName = (name: string): string => name.replace(/[.\\]/g, (c) => `\\${c}`);

/** The path of member names (the inverse of {@link parsePath}). */
export const formatPath = (names: readonly string[]): string => names.map(escapeName).join('.');

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at `names` in `doc`, following objects only (arrays and scalars end the walk): or undefined. */
export function valueAt(doc: JsonObject, names: readonly string[]): JsonValue | undefined {
  let cur: JsonValue = doc;
  for (const name of names) {
    if (!isObject(cur) || !Object.hasOwn(cur, name)) return undefined;
    cur = cur[name]!;
  }
  return cur;
}

/** The value a path is present with (a string, number or boolean), or undefined when it is absent. */
export function scalarAt(doc: JsonObject, names: readonly string[]): Scalar | undefined {
  const v = valueAt(doc, names);
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/** A present value as the filter language sees it: the string, JSON.stringify of a number, "true"/"false". */
export const fieldText = (v: Scalar): string => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The flat fields a filter is evaluated against: every path that leads (through objects) to a string,
 * number or boolean, with its {@link fieldText}; plus `_id`, the document's id.
 */
export function documentFields(doc: JsonObject, id: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (obj: JsonObject, prefix: string) => {
    for (const [name, v] of Object.entries(obj)) {
      const path = prefix === '' ? escapeName(name) : `${prefix}.${escapeName(name)}`;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        out.set(path, fieldText(v));
      else if (isObject(v)) walk(v, path);
    }
  };
  walk(doc, '');
  out.set(ID_FIELD, id);
  return out;
}

/**
 * Compares strings by Unicode code point (= UTF-8 byte order, as PostgreSQL's "C" collation and SQLite's
 * BINARY compare), not by UTF-16 unit as `<` does.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** Rank of a present value's type in the sort order: numbers, then strings, then booleans. */
export const typeRank = (v: Scalar): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);

/** Ascending order of two present values: by type rank, then numerically / by code point / false first. */
export function compareScalars(a: Scalar, b: Scalar): number {
  const r = typeRank(a) - typeRank(b);
  if (r !== 0) return r;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return compareCodePoints(a, b as string);
  return a === b ? 0 : a ? 1 : -1;
}

/** One compiled sort key. */
export interface CompiledSortKey {
  readonly path: string;
  /** Member names, or undefined for `_id` (the id). */
  readonly names: readonly string[] | undefined;
  readonly descending: boolean;
}

/** A row's position in a query's order: its value per sort key (undefined = absent) and its id. */
export interface SortTuple {
  readonly values: readonly (Scalar | undefined)[];
  readonly id: string;
}

/** The sort tuple of a document for `sort`. */
export function sortTupleOf(doc: JsonObject, id: string, sort: readonly CompiledSortKey[]): SortTuple {
  return { values: sort.map((k) => (k.names === undefined ? id : scalarAt(doc, k.names))), id };
}

/**
 * The query order (the proto's total order): per sort key absent values last in both directions, numbers
 * before strings before booleans (reversed by `descending`), then the id by code point.
 */
export function compareForSort(a: SortTuple, b: SortTuple, sort: readonly CompiledSortKey[]): number {
  for (let i = 0; i < sort.length; i++) {
    const x = a.values[i];
    const y = b.values[i];
    if (x === undefined || y === undefined) {
      if (x === y) continue;
      return x === undefined ? 1 : -1;
    }
    const c = compareScalars(x, y);
    if (c !== 0) return sort[i]!.descending ? -c : c;
  }
  return compareCodePoints(a.id, b.id);
}

/** The document reduced to `paths` (each kept nested as in the document; absent paths are left out). */
export function project(doc: JsonObject, paths: readonly (readonly string[])[]): JsonObject {
  const out: JsonObject = {};
  const put = (obj: JsonObject, name: string, v: JsonValue) =>
    Object.defineProperty(obj, name, { value: v, enumerable: true, writable: true, configurable: true });
  for (const names of paths) {
    const v = valueAt(doc, names);
    if (v === undefined) continue;
    let cur = out;
    let covered = false;
    for (let i = 0; i < names.length - 1; i++) {
      const name = names[i]!;
      if (!Object.hasOwn(cur, name)) put(cur, name, {});
      const next = cur[name];
      // A shorter path already holds this whole subtree.
      if (!isObject(next) || next === valueAt(doc, names.slice(0, i + 1))) {
        covered = true;
        break;
      }
      cur = next;
    }
    if (!covered) put(cur, names.at(-1)!, v);
  }
  return out;
}

/** Parses `value` as a number exactly when it is how JSON.stringify prints that number ("5", "1e+21"). */
export function canonicalNumber(value: string): number | undefined {
  if (!/^-?\d/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && JSON.stringify(n) === value ? n : undefined;
}

/** A validated query, ready for any backend. */
export interface CompiledQuery {
  readonly filter: Filter | undefined;
  /** The filter as a predicate over {@link documentFields} (always true without a filter). */
  readonly matches: FilterPredicate;
  readonly sort: readonly CompiledSortKey[];
  /** Projection paths as member names; empty = the whole document. */
  readonly projection: readonly (readonly string[])[];
  readonly limit: number;
  /** Where the page starts (exclusive), from the cursor. */
  readonly after: SortTuple | undefined;
  /** Hash of filter, sort and projection, carried in cursors. */
  readonly fingerprint: string;
}

/** Checks every field a filter reads is a valid path (or `_id`), naming the node. */
export function checkFilterPaths(f: Filter, at: string): void {
  const c = f.condition;
  if (c.case === undefined) return;
  const here = `${at}.${c.case}`;
  if (c.case === 'and' || c.case === 'or')
    c.value.filters.forEach((g, i) => {
      checkFilterPaths(g, `${here}[${i}]`);
    });
  else if (c.case === 'not') checkFilterPaths(c.value, here);
  else if (c.value.field !== ID_FIELD) parsePath(c.value.field, `${here}: field`);
}

/** Validates filter, sort, projection, limit (not the cursor); shared by Query and Explain. */
export function compileFilterAndSort(
  filter: Filter | undefined,
  sort: readonly SortKey[],
): { matches: FilterPredicate; sort: CompiledSortKey[] } {
  let matches: FilterPredicate = () => true;
  if (filter !== undefined) {
    checkFilter(filter, 'filter');
    checkFilterPaths(filter, 'filter');
    matches = compileFilter(filter);
  }
  if (sort.length > QUERY_LIMITS.maxSortKeys)
    throw invalidArgument(`sort has ${sort.length} keys; at most ${QUERY_LIMITS.maxSortKeys} allowed`);
  const keys = sort.map((k, i) => ({
    path: k.path,
    names: k.path === ID_FIELD ? undefined : parsePath(k.path, `sort[${i}].path`),
    descending: k.descending,
  }));
  return { matches, sort: keys };
}

/** The fingerprint of a query's filter, sort and projection (what a cursor must have been made for). */
export function queryFingerprint(req: Pick<QueryRequest, 'filter' | 'sort' | 'projection'>): string {
  const shape = JSON.stringify([
    req.filter ? toJson(FilterSchema, req.filter) : null,
    req.sort.map((k) => [k.path, k.descending]),
    req.projection,
  ]);
  return createHash('sha256').update(shape).digest('base64url').slice(0, 22);
}

/** An opaque cursor: base64url JSON of the last row's sort values, its id and the query's fingerprint. */
export function encodeCursor(t: SortTuple, fingerprint: string): string {
  const body = { v: t.values.map((v) => (v === undefined ? null : v)), i: t.id, h: fingerprint };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Decodes a cursor of this query; INVALID_ARGUMENT when it is malformed or was made for another query. */
export function decodeCursor(cursor: string, sortKeys: number, fingerprint: string): SortTuple {
  const bad = (why: string) =>
    invalidArgument(
      `cursor ${why}; pass next_cursor of the previous page, with the same filter, sort and projection`,
    );
  let body: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('is not a cursor of this interface');
  }
  const b = body as { v?: unknown; i?: unknown; h?: unknown };
  if (
    typeof b !== 'object' ||
    b === null ||
    !Array.isArray(b.v) ||
    typeof b.i !== 'string' ||
    typeof b.h !== 'string' ||
    !b.v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))
  )
    throw bad('is not a cursor of this interface');
  if (b.h !== fingerprint || b.v.length !== sortKeys)
    throw bad('was made for a query with another filter, sort or projection');
  return { values: (b.v as (Scalar | null)[]).map((x) => (x === null ? undefined : x)), id: b.i };
}

/** Validates and compiles a QueryRequest (INVALID_ARGUMENT naming the field). */
export function compileQuery(req: QueryRequest): CompiledQuery {
  const { matches, sort } = compileFilterAndSort(req.filter, req.sort);
  if (req.projection.length > QUERY_LIMITS.maxProjection)
    throw invalidArgument(
      `projection has ${req.projection.length} paths; at most ${QUERY_LIMITS.maxProjection} allowed`,
    );
  const projection = req.projection.map((p, i) => parsePath(p, `projection[${i}]`));
  if (req.limit > QUERY_LIMITS.maxLimit)
    throw invalidArgument(`limit is ${req.limit}; at most ${QUERY_LIMITS.maxLimit} allowed`);
  const fingerprint = queryFingerprint(req);
  const after = req.cursor === '' ? undefined : decodeCursor(req.cursor, sort.length, fingerprint);
  return {
    filter: req.filter,
    matches,
    sort,
    projection,
    limit: req.limit === 0 ? QUERY_LIMITS.defaultLimit : req.limit,
    after,
    fingerprint,
  };
}

/** A stored document as backends hand it to {@link collectPage}. */
export interface StoredDocument {
  readonly id: string;
  readonly json: string;
  readonly version: bigint;
  readonly doc: JsonObject;
}

/** The result of a query page. */
export interface QueryPage {
  documents: { id: string; json: string; version: bigint }[];
  nextCursor: string;
}

/**
 * One page of a query from a backend that returns candidate rows in the query's order, after a given
 * position. Candidates may be a superset of the matches (a filter pushed down only in part): each is
 * checked with the shared predicate, so every backend returns exactly what the shared semantics say.
 */
export async function collectPage(
  q: CompiledQuery,
  fetch: (after: SortTuple | undefined, n: number) => Promise<readonly StoredDocument[]>,
): Promise<QueryPage> {
  const out: StoredDocument[] = [];
  let after = q.after;
  const n = q.limit + 1;
  for (;;) {
    const batch = await fetch(after, n);
    for (const row of batch) {
      if (q.matches(documentFields(row.doc, row.id))) out.push(row);
      if (out.length > q.limit) break;
    }
    if (out.length > q.limit || batch.length < n) break;
    const last = batch.at(-1)!;
    after = sortTupleOf(last.doc, last.id, q.sort);
  }
  return pageOf(q, out);
}

/** The response of a page from up to limit+1 matching rows in order. */
export function pageOf(q: CompiledQuery, rows: readonly StoredDocument[]): QueryPage {
  const page = rows.slice(0, q.limit);
  const more = rows.length > q.limit;
  const last = page.at(-1);
  return {
    documents: page.map((r) => ({
      id: r.id,
      json: q.projection.length === 0 ? r.json : JSON.stringify(project(r.doc, q.projection)),
      version: r.version,
    })),
    nextCursor: more && last ? encodeCursor(sortTupleOf(last.doc, last.id, q.sort), q.fingerprint) : '',
  };
}

/** The document_query flavour: filtered, sorted, projected, keyset-paged queries over documents. */
export const DocumentQuery = defineInterface(
  'document_query',
  DocumentQueryInterface,
  { query: 'read' },
  {
    query: (req) => {
      compileQuery(req);
    },
  },
);

/** What an adapter implements for document_query. */
export type DocumentQueryImpl = InterfaceImpl<typeof DocumentQueryInterface>;
