import { createHash } from 'node:crypto';
import {
  DocumentBasic,
  type DocumentBasicImpl,
  patchDocument,
  prepareDocument,
  versionMatches,
  versionMismatch,
} from '@prism/document-basic';
import {
  DocumentIndexing,
  type DocumentIndexingImpl,
  INDEX_LIMITS,
  indexNameTaken,
  samePaths,
  tooManyIndexes,
} from '@prism/document-indexing';
import {
  type CompiledSortKey,
  canonicalNumber,
  collectPage,
  compileFilterAndSort,
  compileQuery,
  DocumentQuery,
  type DocumentQueryImpl,
  ID_FIELD,
  type JsonObject,
  parsePath,
  type Scalar,
  type SortTuple,
  type StoredDocument,
} from '@prism/document-query';
import {
  type Binding,
  type CallContext,
  type Filter,
  implement,
  invalidArgument,
  type Limits,
  notFound,
} from '@prism/sdk';
import type { PgClient } from './client.js';
import { ensureSchemaObjects } from './ddl.js';

/** The document interfaces this adapter implements. */
export const DOCUMENT_INTERFACES = [DocumentBasic, DocumentQuery, DocumentIndexing];

/**
 * `<schema>.documents`, shared by all namespaces (`namespace` leads the key): the canonical text as given
 * back (`body`; jsonb would reorder members), the same as jsonb for queries (`doc`, with a GIN index for
 * containment), and the version. `<schema>.document_indexes` records the declared indexes; each is a real
 * expression index on `documents`, partial to its namespace.
 */
export async function ensureDocumentSchema(client: PgClient): Promise<void> {
  await ensureSchemaObjects(client, client.config.schema, (schema) => [
    `
        CREATE TABLE IF NOT EXISTS ${schema}."documents" (
          namespace text COLLATE "C" NOT NULL,
          id        text COLLATE "C" NOT NULL,
          body      text NOT NULL,
          doc       jsonb NOT NULL,
          version   bigint NOT NULL,
          PRIMARY KEY (namespace, id)
        )`,
    `CREATE INDEX IF NOT EXISTS documents_doc ON ${schema}."documents" USING gin (doc jsonb_path_ops)`,
    `
        CREATE TABLE IF NOT EXISTS ${schema}."document_indexes" (
          namespace text COLLATE "C" NOT NULL,
          name      text COLLATE "C" NOT NULL,
          paths     text[] NOT NULL,
          relname   text NOT NULL,
          PRIMARY KEY (namespace, name)
        )`,
  ]);
}

/**
 * A SQL string literal that means `s` whatever standard_conforming_strings is (E'' form). Only for what
 * PostgreSQL takes no bind parameter for: index DDL, and JSON paths, which must be constants so the planner
 * can match them to expression indexes. Paths and namespaces contain no control characters.
 */
export const pgLiteral = (s: string): string => `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A text[] constant of member names. */
const pathLiteral = (names: readonly string[]): string =>
  `${pgLiteral(`{${names.map((n) => `"${n.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`)}::text[]`;

// `#>` reads an array element for a name that parses as an integer; the shared semantics follow objects
// only, so a path with such a name (after the first, which applies to the document object) checks that
// the value before it is an object.
const INTEGER_LIKE = /^\s*[+-]?\d+\s*$/;

/** SQL expressions of one path: the jsonb value (`json`, NULL when absent) and its text (`text`). */
function pathExpr(names: readonly string[]): { json: string; text: string } {
  const guards: string[] = [];
  for (let i = 1; i < names.length; i++)
    if (INTEGER_LIKE.test(names[i]!))
      guards.push(`jsonb_typeof(doc #> ${pathLiteral(names.slice(0, i))}) = 'object'`);
  const json = `(doc #> ${pathLiteral(names)})`;
  const text = `(doc #>> ${pathLiteral(names)})`;
  if (guards.length === 0) return { json, text };
  const when = guards.join(' AND ');
  return { json: `(CASE WHEN ${when} THEN ${json} END)`, text: `(CASE WHEN ${when} THEN ${text} END)` };
}

/** Bind parameters of one statement ($1, $2, ... in order). */
class Params {
  readonly values: (string | number)[] = [];
  /**
   * Paths with a declared index: equality on them is left to that index; on others it also tests GIN
   * containment (`doc @> {"a":{"b":v}}`), which the table's GIN index serves.
   */
  constructor(readonly indexed: ReadonlySet<string> = new Set()) {}
  add(v: string, cast: 'text' | 'numeric' | 'jsonb'): string {
    this.values.push(v);
    return cast === 'jsonb' ? `$${this.values.length}::text::jsonb` : `$${this.values.length}::${cast}`;
  }
}

const NUMBER_PATTERN = `'^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$'`;

/** A filter as SQL: `exact` when it selects exactly what the shared predicate accepts (else a superset). */
interface Translated {
  readonly sql: string;
  readonly exact: boolean;
}

/**
 * Translates a filter to a WHERE condition (NULL counts as false). Equality becomes `text = $v` on the path
 * so an expression index on that path serves it; comparisons are pushed down for numbers and narrowed to
 * numeric-looking strings; the shared predicate then checks every candidate row.
 */
function translate(f: Filter, p: Params): Translated {
  const c = f.condition;
  switch (c.case) {
    case 'and':
    case 'or': {
      const parts = c.value.filters.map((g) => translate(g, p));
      return {
        sql: `(${parts.map((x) => x.sql).join(c.case === 'and' ? ' AND ' : ' OR ')})`,
        exact: parts.every((x) => x.exact),
      };
    }
    case 'not': {
      const mark = p.values.length;
      const inner = translate(c.value, p);
      if (inner.exact) return { sql: `(NOT COALESCE(${inner.sql}, false))`, exact: true };
      // Not pushed down: drop the parameters of the discarded condition.
      p.values.length = mark;
      return { sql: 'TRUE', exact: false };
    }
    case 'eq':
      return { sql: eqSql(c.value.field, c.value.value, p), exact: true };
    case 'ne':
      return { sql: `(NOT COALESCE(${eqSql(c.value.field, c.value.value, p)}, false))`, exact: true };
    case 'in':
      return {
        sql: `(${[...new Set(c.value.values)].map((v) => eqSql(c.value.field, v, p)).join(' OR ')})`,
        exact: true,
      };
    case 'exists':
      if (c.value.field === ID_FIELD) return { sql: 'TRUE', exact: true };
      return {
        sql: `(jsonb_typeof(${pathExpr(parsePath(c.value.field)).json}) IN ('string','number','boolean'))`,
        exact: true,
      };
    case 'startswith': {
      const { field, prefix } = c.value;
      if (field === ID_FIELD) return { sql: `starts_with(id, ${p.add(prefix, 'text')})`, exact: true };
      const e = pathExpr(parsePath(field));
      if (prefix === '')
        return { sql: `(jsonb_typeof(${e.json}) IN ('string','number','boolean'))`, exact: true };
      const pre = p.add(prefix, 'text');
      const strings = `(jsonb_typeof(${e.json}) IN ('string','boolean') AND starts_with(${e.text}, ${pre}))`;
      // JSON.stringify prints numbers with [0-9.e+-] only: other prefixes never match a number.
      if (!/^[0-9.e+-]+$/.test(prefix)) return { sql: strings, exact: true };
      // PostgreSQL prints numbers without exponent; those JavaScript prints with one (|x| >= 1e21 or
      // < 1e-6) are all candidates.
      const num = `(CASE WHEN jsonb_typeof(${e.json}) = 'number' THEN abs((${e.json})::numeric) END)`;
      return {
        sql: `(${strings} OR (jsonb_typeof(${e.json}) = 'number' AND (starts_with(${e.text}, ${pre}) OR ${num} >= 1e21 OR (${num} > 0 AND ${num} < 0.000001))))`,
        exact: false,
      };
    }
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const op = { lt: '<', le: '<=', gt: '>', ge: '>=' }[c.case];
      const { field, value } = c.value;
      if (field === ID_FIELD) return { sql: `(id ~ ${NUMBER_PATTERN})`, exact: false };
      const e = pathExpr(parsePath(field));
      const num = `(CASE WHEN jsonb_typeof(${e.json}) = 'number' THEN (${e.json})::numeric END ${op} ${p.add(JSON.stringify(value), 'numeric')})`;
      // Numeric strings compare as doubles (after rounding), which numeric cannot mirror exactly.
      const str = `(jsonb_typeof(${e.json}) = 'string' AND ${e.text} ~ ${NUMBER_PATTERN})`;
      return { sql: `(${num} OR ${str})`, exact: false };
    }
    default:
      return { sql: 'TRUE', exact: false };
  }
}

/** eq on a path: the text matches and the type is one whose text the filter language sees as is. */
function eqSql(field: string, value: string, p: Params): string {
  if (field === ID_FIELD) return `(id = ${p.add(value, 'text')})`;
  const names = parsePath(field);
  const e = pathExpr(names);
  const n = canonicalNumber(value);
  let contains = '';
  if (!p.indexed.has(field)) {
    const candidates: (string | number | boolean)[] = [value];
    if (n !== undefined) candidates.push(n);
    if (value === 'true' || value === 'false') candidates.push(value === 'true');
    const nested = (v: string | number | boolean) =>
      JSON.stringify(names.reduceRight<unknown>((inner, name) => ({ [name]: inner }), v));
    contains = ` AND (${candidates.map((c) => `doc @> ${p.add(nested(c), 'jsonb')}`).join(' OR ')})`;
  }
  const v = p.add(value, 'text');
  // Without exponent, PostgreSQL prints a number as JavaScript does; with one, compare the number.
  if (n !== undefined && !value.includes('e'))
    return `(${e.text} = ${v} AND jsonb_typeof(${e.json}) IN ('string','number','boolean')${contains})`;
  const text = `(${e.text} = ${v} AND jsonb_typeof(${e.json}) IN ('string','boolean'))`;
  if (n === undefined) return `(${text}${contains})`;
  return `((${text} OR (CASE WHEN jsonb_typeof(${e.json}) = 'number' THEN (${e.json})::numeric END = ${p.add(value, 'numeric')}))${contains})`;
}

/** The ordering columns of one sort key: type rank (absent last), number, text. */
function sortColumns(
  k: CompiledSortKey,
): { expr: string; dir: 'ASC' | 'DESC'; kind: 'int' | 'numeric' | 'text' }[] {
  const dir = k.descending ? 'DESC' : 'ASC';
  if (k.names === undefined) return [{ expr: 'id', dir, kind: 'text' }];
  const e = pathExpr(k.names);
  const t = `jsonb_typeof(${e.json})`;
  const rank = k.descending
    ? `(CASE ${t} WHEN 'boolean' THEN 0 WHEN 'string' THEN 1 WHEN 'number' THEN 2 ELSE 3 END)`
    : `(CASE ${t} WHEN 'number' THEN 0 WHEN 'string' THEN 1 WHEN 'boolean' THEN 2 ELSE 3 END)`;
  return [
    { expr: rank, dir: 'ASC', kind: 'int' },
    { expr: `(CASE WHEN ${t} = 'number' THEN (${e.json})::numeric ELSE 0 END)`, dir, kind: 'numeric' },
    {
      expr: `(CASE WHEN ${t} IN ('string','boolean') THEN ${e.text} ELSE '' END) COLLATE "C"`,
      dir,
      kind: 'text',
    },
  ];
}

/** The values of a sort tuple in the columns of {@link sortColumns}. */
function sortValues(k: CompiledSortKey, v: Scalar | undefined): string[] {
  if (k.names === undefined) return [String(v)];
  if (v === undefined) return ['3', '0', ''];
  if (typeof v === 'number') return [k.descending ? '2' : '0', JSON.stringify(v), ''];
  if (typeof v === 'string') return ['1', '0', v];
  return [k.descending ? '0' : '2', '0', String(v)];
}

/** The ORDER BY of a sort, and the keyset condition "after `t`" in that order. */
function ordering(sort: readonly CompiledSortKey[], after: SortTuple | undefined, p: Params) {
  const cols = sort.flatMap(sortColumns);
  cols.push({ expr: 'id', dir: 'ASC', kind: 'text' });
  const orderBy = cols.map((c) => `${c.expr} ${c.dir}`).join(', ');
  if (after === undefined) return { orderBy, keyset: 'TRUE' };
  const values = [...sort.flatMap((k, i) => sortValues(k, after.values[i])), after.id];
  const ps = cols.map((c, i) =>
    c.kind === 'int'
      ? String(Number(values[i]))
      : p.add(values[i]!, c.kind === 'numeric' ? 'numeric' : 'text'),
  );
  const rhs = (i: number) => (cols[i]!.kind === 'text' ? `${ps[i]} COLLATE "C"` : ps[i]!);
  const ors: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const eqs = cols.slice(0, i).map((c, j) => `${c.expr} = ${rhs(j)}`);
    eqs.push(`${cols[i]!.expr} ${cols[i]!.dir === 'ASC' ? '>' : '<'} ${rhs(i)}`);
    ors.push(`(${eqs.join(' AND ')})`);
  }
  return { orderBy, keyset: `(${ors.join(' OR ')})` };
}

type Row = { id: string; body: string; version: string };

/** jsonb cannot hold U+0000 (PostgreSQL text never can): say so rather than fail with INTERNAL. */
function checkStorable(json: string, field: string): string {
  // An escape \u0000 (after an even number of backslashes; `\\u0000` is a backslash and "u0000").
  if (/(?<!\\)(?:\\\\)*\\u0000/.test(json))
    throw invalidArgument(
      `${field} contains the character U+0000 (\\u0000), which PostgreSQL's jsonb cannot store`,
    );
  return json;
}

/** The document part of the adapter: bindings and the start-up step. */
export function documents(client: PgClient, limits: Limits): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const schema = `"${client.config.schema}"`;
  const table = `${schema}."documents"`;
  const t = sql(`${client.config.schema}.documents`);
  const ix = sql(`${client.config.schema}.document_indexes`);

  const current = async (id: string, ctx: CallContext) => {
    const [row] = await client.run(
      sql<{ version: string }[]>`SELECT version FROM ${t} WHERE namespace = ${ns} AND id = ${id}`,
      ctx,
    );
    return row === undefined ? undefined : BigInt(row.version);
  };

  const basic: DocumentBasicImpl = {
    async put(req, ctx) {
      const json = checkStorable(prepareDocument(req.json, limits).json, 'json');
      const expected = req.expectedVersion;
      let rows: { version: string }[];
      if (expected === undefined)
        rows = await client.run(
          sql`INSERT INTO ${t} (namespace, id, body, doc, version) VALUES (${ns}, ${req.id}, ${json}, ${json}::text::jsonb, 1)
            ON CONFLICT (namespace, id) DO UPDATE SET body = excluded.body, doc = excluded.doc,
              version = ${t}.version + 1
            RETURNING version`,
          ctx,
        );
      else if (expected === 0n)
        rows = await client.run(
          sql`INSERT INTO ${t} (namespace, id, body, doc, version) VALUES (${ns}, ${req.id}, ${json}, ${json}::text::jsonb, 1)
            ON CONFLICT (namespace, id) DO NOTHING RETURNING version`,
          ctx,
        );
      else
        rows = await client.run(
          sql`UPDATE ${t} SET body = ${json}, doc = ${json}::text::jsonb, version = version + 1
            WHERE namespace = ${ns} AND id = ${req.id} AND version = ${String(expected)}::bigint
            RETURNING version`,
          ctx,
        );
      if (rows.length === 0) throw versionMismatch(req.id, expected!, await current(req.id, ctx));
      return { version: BigInt(rows[0]!.version) };
    },
    async get(req, ctx) {
      const [row] = await client.run(
        sql<Row[]>`SELECT id, body, version FROM ${t} WHERE namespace = ${ns} AND id = ${req.id}`,
        ctx,
      );
      return row
        ? { found: true, document: { id: row.id, json: row.body, version: BigInt(row.version) } }
        : { found: false };
    },
    // Read, merge in the adapter (the shared RFC 7386 code), write: one transaction holding the row lock.
    async patch(req, ctx) {
      const doc = await client.run(
        sql.begin(async (tx) => {
          const [row] = await tx<Row[]>`SELECT id, body, version FROM ${t}
            WHERE namespace = ${ns} AND id = ${req.id} FOR UPDATE`;
          if (!row)
            throw notFound(`document "${req.id}" does not exist; Patch changes existing documents (use Put)`);
          const version = BigInt(row.version);
          if (!versionMatches(req.expectedVersion, version))
            throw versionMismatch(req.id, req.expectedVersion!, version);
          const json = checkStorable(patchDocument(row.body, req.mergePatch, limits).json, 'merge_patch');
          await tx`UPDATE ${t} SET body = ${json}, doc = ${json}::text::jsonb, version = ${String(version + 1n)}::bigint
            WHERE namespace = ${ns} AND id = ${req.id}`;
          return { id: req.id, json, version: version + 1n };
        }),
        ctx,
      );
      return { document: doc };
    },
    async delete(req, ctx) {
      const expected = req.expectedVersion;
      if (expected === 0n) {
        const v = await current(req.id, ctx);
        if (v !== undefined) throw versionMismatch(req.id, expected, v);
        return { deleted: false };
      }
      const rows = await client.run(
        expected === undefined
          ? sql`DELETE FROM ${t} WHERE namespace = ${ns} AND id = ${req.id} RETURNING 1`
          : sql`DELETE FROM ${t} WHERE namespace = ${ns} AND id = ${req.id}
              AND version = ${String(expected)}::bigint RETURNING 1`,
        ctx,
      );
      if (rows.length > 0) return { deleted: true };
      if (expected !== undefined) throw versionMismatch(req.id, expected, await current(req.id, ctx));
      return { deleted: false };
    },
  };

  /** The SELECT of a query page (or of Explain): candidates in order, after `after`. */
  const select = (
    filter: Filter | undefined,
    sort: readonly CompiledSortKey[],
    after: SortTuple | undefined,
    n: number,
    indexed: ReadonlySet<string>,
  ) => {
    const p = new Params(indexed);
    const nsParam = p.add(ns, 'text');
    const where = filter === undefined ? 'TRUE' : translate(filter, p).sql;
    const { orderBy, keyset } = ordering(sort, after, p);
    const text = `SELECT id, body, version FROM ${table}
      WHERE namespace = ${nsParam} AND ${where} AND ${keyset}
      ORDER BY ${orderBy} LIMIT ${n}`;
    return { text, params: p.values };
  };

  const query: DocumentQueryImpl = {
    async query(req, ctx) {
      const q = compileQuery(req);
      const indexed = q.filter === undefined ? new Set<string>() : await indexedPaths(ctx);
      return collectPage(q, async (after, n) => {
        const { text, params } = select(q.filter, q.sort, after, n, indexed);
        // Unnamed statements: planned with the values, so partial indexes of the namespace apply.
        const rows = await client.run(sql.unsafe<Row[]>(text, params, { prepare: false }), ctx);
        return rows.map(
          (r): StoredDocument => ({
            id: r.id,
            json: r.body,
            version: BigInt(r.version),
            doc: JSON.parse(r.body) as JsonObject,
          }),
        );
      });
    },
  };

  /** Physical name of a declared index: unique per namespace within the schema (≤ 63 characters). */
  const relname = (name: string) => `d_${createHash('sha256').update(ns).digest('hex').slice(0, 12)}_${name}`;

  // text[] comes back as JSON text: the driver does not fetch array types.
  const declared = async (ctx: CallContext) =>
    (
      await client.run(
        sql<
          { name: string; paths: string; relname: string }[]
        >`SELECT name, array_to_json(paths)::text AS paths,
          relname FROM ${ix} WHERE namespace = ${ns} ORDER BY name`,
        ctx,
      )
    ).map((r) => ({ name: r.name, paths: JSON.parse(r.paths) as string[], relname: r.relname }));

  const firstPaths = (indexes: readonly { paths: string[] }[]) =>
    new Set(indexes.map((i) => i.paths[0]!).filter((p) => p !== undefined));
  const indexedPaths = async (ctx: CallContext) => firstPaths(await declared(ctx));

  const indexing: DocumentIndexingImpl = {
    async createIndex(req, ctx) {
      const { name, paths } = req.index!;
      const exprs = paths.map((path) => `(${pathExpr(parsePath(path)).text})`);
      const rel = relname(name);
      const created = await client.run(
        sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${ns}), hashtext('document_indexes'))`;
          const [existing] = await tx<
            { paths: string }[]
          >`SELECT array_to_json(paths)::text AS paths FROM ${ix}
            WHERE namespace = ${ns} AND name = ${name}`;
          if (existing) {
            const have = JSON.parse(existing.paths) as string[];
            if (samePaths(have, paths)) return false;
            throw indexNameTaken(name, have);
          }
          const [count] = await tx<
            { n: number }[]
          >`SELECT count(*)::int AS n FROM ${ix} WHERE namespace = ${ns}`;
          if ((count?.n ?? 0) >= INDEX_LIMITS.maxIndexes) throw tooManyIndexes();
          await tx`INSERT INTO ${ix} (namespace, name, paths, relname) VALUES (${ns}, ${name}, ARRAY(SELECT x FROM jsonb_array_elements_text(${JSON.stringify(paths)}::text::jsonb)
              WITH ORDINALITY AS e(x, i) ORDER BY i), ${rel})`;
          // DDL takes no bind parameters: the namespace and paths are literals (pgLiteral), the name an
          // identifier of [a-z0-9_]. The id last: equality on the paths then reads rows in page order.
          await tx.unsafe(
            `CREATE INDEX IF NOT EXISTS "${rel}" ON ${table} (${exprs.join(', ')}, id) WHERE namespace = ${pgLiteral(ns)}`,
          );
          return true;
        }),
        ctx,
      );
      return { created };
    },
    async dropIndex(req, ctx) {
      const dropped = await client.run(
        sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${ns}), hashtext('document_indexes'))`;
          const rows = await tx<{ relname: string }[]>`DELETE FROM ${ix}
            WHERE namespace = ${ns} AND name = ${req.name} RETURNING relname`;
          for (const r of rows) await tx.unsafe(`DROP INDEX IF EXISTS ${schema}."${r.relname}"`);
          return rows.length > 0;
        }),
        ctx,
      );
      return { dropped };
    },
    async listIndexes(_req, ctx) {
      return { indexes: (await declared(ctx)).map((r) => ({ name: r.name, paths: r.paths })) };
    },
    // EXPLAIN of the first page's statement. Sequential scans are disabled for it: on the small tables of
    // a new namespace PostgreSQL would rightly scan, which says nothing about the indexes it can use.
    async explain(req, ctx) {
      const { sort } = compileFilterAndSort(req.filter, req.sort);
      const indexes = await declared(ctx);
      const { text, params } = select(req.filter, sort, undefined, 101, firstPaths(indexes));
      const plan = await client.run(
        sql.begin(async (tx) => {
          await tx`SET LOCAL enable_seqscan = off`;
          return tx.unsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${text}`, params, { prepare: false });
        }),
        ctx,
      );
      const lines = plan.map((r) => r['QUERY PLAN']).join('\n');
      const used = indexes.filter((i) => new RegExp(`\\b${i.relname}\\b`).test(lines)).map((i) => i.name);
      return { plan: lines, indexesUsed: used };
    },
  };

  return {
    bindings: [
      implement(DocumentBasic, basic),
      implement(DocumentQuery, query),
      implement(DocumentIndexing, indexing),
    ],
    start: () => ensureDocumentSchema(client),
  };
}
