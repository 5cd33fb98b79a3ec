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
import { type Binding, type Filter, implement, type Limits, notFound } from '@prism/sdk';
import type { SqliteStore } from './store.js';

/** The document interfaces this adapter implements. */
export const DOCUMENT_INTERFACES = [DocumentBasic, DocumentQuery, DocumentIndexing];

/**
 * One row per document, shared by all namespaces (`namespace` leads the key): the canonical JSON text,
 * read with JSON1 (json_extract / json_type), and the version. Declared indexes are recorded in
 * prism_document_indexes; each is a real expression index (namespace, json_extract(body, path)..., id).
 */
const DOCUMENT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS prism_documents (
    namespace TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (namespace, id)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS prism_document_indexes (
    namespace TEXT NOT NULL,
    name      TEXT NOT NULL,
    paths     TEXT NOT NULL, -- JSON array of the declared paths
    relname   TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
  ) WITHOUT ROWID`,
];

/** Creates the document tables if missing (run on start, after the store opened the database). */
export function ensureDocumentSchema(store: SqliteStore): void {
  store.guard(() => {
    for (const ddl of DOCUMENT_SCHEMA) store.stmt(ddl).run();
  });
}

/**
 * A SQL string literal (quotes doubled; SQLite has no backslash escapes). Only for JSON paths and the
 * instance's namespace, which must be constants for the planner to match (partial) expression indexes;
 * request values are always bound parameters.
 */
const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The JSON1 path of member names: `$."a"."b"` (labels quoted, '"' and '\' escaped). */
const jsonPath = (names: readonly string[]): string =>
  `$${names.map((n) => `."${n.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join('')}`;

/** SQL of one path: its value (`v`, json_extract) and JSON type (`t`, NULL when absent). */
function pathExpr(names: readonly string[]): { v: string; t: string } {
  const p = sqlLiteral(jsonPath(names));
  return { v: `json_extract(body, ${p})`, t: `json_type(body, ${p})` };
}

const PRESENT = `('text','integer','real','true','false')`;

/** Bind parameters in order of their `?`. */
class Params {
  readonly values: (string | number)[] = [];
  add(v: string | number): string {
    this.values.push(v);
    return '?';
  }
}

interface Translated {
  readonly sql: string;
  readonly exact: boolean;
}

/**
 * A filter as a WHERE condition (NULL counts as false): exact where SQLite can say what the shared
 * predicate says, otherwise a superset that the predicate then narrows. Equality is `json_extract(...) IN
 * (...)` so an expression index on the path serves it.
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
      if (inner.exact) return { sql: `(NOT COALESCE(${inner.sql}, 0))`, exact: true };
      p.values.length = mark;
      return { sql: '1', exact: false };
    }
    case 'eq':
      return { sql: eqSql(c.value.field, c.value.value, p), exact: true };
    case 'ne':
      return { sql: `(NOT COALESCE(${eqSql(c.value.field, c.value.value, p)}, 0))`, exact: true };
    case 'in':
      return {
        sql: `(${[...new Set(c.value.values)].map((v) => eqSql(c.value.field, v, p)).join(' OR ')})`,
        exact: true,
      };
    case 'exists':
      if (c.value.field === ID_FIELD) return { sql: '1', exact: true };
      return { sql: `(${pathExpr(parsePath(c.value.field)).t} IN ${PRESENT})`, exact: true };
    case 'startswith': {
      const { field, prefix } = c.value;
      if (field === ID_FIELD)
        return { sql: `(substr(id, 1, length(${p.add(prefix)})) = ${p.add(prefix)})`, exact: true };
      const e = pathExpr(parsePath(field));
      if (prefix === '') return { sql: `(${e.t} IN ${PRESENT})`, exact: true };
      const text = `(CASE ${e.t} WHEN 'text' THEN ${e.v} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END)`;
      const strings = `(substr(${text}, 1, length(${p.add(prefix)})) = ${p.add(prefix)})`;
      // JSON.stringify prints numbers with [0-9.e+-] only: other prefixes never match a number, and
      // SQLite prints numbers its own way, so for those every number is a candidate.
      if (!/^[0-9.e+-]+$/.test(prefix)) return { sql: strings, exact: true };
      return { sql: `(${strings} OR ${e.t} IN ('integer','real'))`, exact: false };
    }
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const op = { lt: '<', le: '<=', gt: '>', ge: '>=' }[c.case];
      const { field, value } = c.value;
      if (field === ID_FIELD) return { sql: '1', exact: false };
      const e = pathExpr(parsePath(field));
      const num = `(${e.t} IN ('integer','real') AND ${e.v} ${op} ${p.add(value)})`;
      // CAST reads the longest numeric prefix, so this keeps every numeric string that compares so (and
      // some that are not numbers at all): a superset the shared predicate narrows.
      const str = `(${e.t} = 'text' AND CAST(${e.v} AS REAL) ${op} ${p.add(value)})`;
      return { sql: `(${num} OR ${str})`, exact: false };
    }
    default:
      return { sql: '1', exact: false };
  }
}

/** eq on a path: json_extract is one of the candidate values, and its JSON type is the matching one. */
function eqSql(field: string, value: string, p: Params): string {
  if (field === ID_FIELD) return `(id = ${p.add(value)})`;
  const e = pathExpr(parsePath(field));
  const n = canonicalNumber(value);
  const candidates = [p.add(value)];
  if (value === 'true') candidates.push('1');
  if (value === 'false') candidates.push('0');
  if (n !== undefined) candidates.push(p.add(n));
  const check = `CASE ${e.t} WHEN 'text' THEN ${e.v} = ${p.add(value)} WHEN 'true' THEN ${value === 'true' ? 1 : 0}
    WHEN 'false' THEN ${value === 'false' ? 1 : 0} WHEN 'integer' THEN ${n !== undefined ? 1 : 0}
    WHEN 'real' THEN ${n !== undefined ? 1 : 0} ELSE 0 END`;
  return `(${e.v} IN (${candidates.join(', ')}) AND ${check})`;
}

/** The ordering columns of one sort key: type rank (absent last), number, text. */
function sortColumns(
  k: CompiledSortKey,
): { expr: string; dir: 'ASC' | 'DESC'; kind: 'int' | 'num' | 'text' }[] {
  const dir = k.descending ? 'DESC' : 'ASC';
  if (k.names === undefined) return [{ expr: 'id', dir, kind: 'text' }];
  const { v, t } = pathExpr(k.names);
  const rank = k.descending
    ? `(CASE ${t} WHEN 'true' THEN 0 WHEN 'false' THEN 0 WHEN 'text' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 ELSE 3 END)`
    : `(CASE ${t} WHEN 'integer' THEN 0 WHEN 'real' THEN 0 WHEN 'text' THEN 1 WHEN 'true' THEN 2 WHEN 'false' THEN 2 ELSE 3 END)`;
  return [
    { expr: rank, dir: 'ASC', kind: 'int' },
    { expr: `(CASE WHEN ${t} IN ('integer','real') THEN ${v} ELSE 0 END)`, dir, kind: 'num' },
    {
      expr: `(CASE ${t} WHEN 'text' THEN ${v} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE '' END)`,
      dir,
      kind: 'text',
    },
  ];
}

/** The values of a sort tuple in the columns of {@link sortColumns}. */
function sortValues(k: CompiledSortKey, v: Scalar | undefined): (string | number)[] {
  if (k.names === undefined) return [String(v)];
  if (v === undefined) return [3, 0, ''];
  if (typeof v === 'number') return [k.descending ? 2 : 0, v, ''];
  if (typeof v === 'string') return [1, 0, v];
  return [k.descending ? 0 : 2, 0, String(v)];
}

/** ORDER BY of a sort, and the keyset condition "after `t`" in that order. */
function ordering(sort: readonly CompiledSortKey[], after: SortTuple | undefined, p: Params) {
  const cols = sort.flatMap(sortColumns);
  cols.push({ expr: 'id', dir: 'ASC', kind: 'text' });
  const orderBy = cols.map((c) => `${c.expr} ${c.dir}`).join(', ');
  if (after === undefined) return { orderBy, keyset: '1' };
  const values = [...sort.flatMap((k, i) => sortValues(k, after.values[i])), after.id];
  const ors: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const terms: string[] = [];
    for (let j = 0; j < i; j++) terms.push(`${cols[j]!.expr} = ${p.add(values[j]!)}`);
    terms.push(`${cols[i]!.expr} ${cols[i]!.dir === 'ASC' ? '>' : '<'} ${p.add(values[i]!)}`);
    ors.push(`(${terms.join(' AND ')})`);
  }
  return { orderBy, keyset: `(${ors.join(' OR ')})` };
}

type Row = { id: string; body: string; version: number };

/** The documents of one namespace on SQLite: synchronous statements, read-modify-write in transactions. */
export function documents(store: SqliteStore, limits: Limits): { bindings: Binding[] } {
  const ns = store.namespace;
  const versionOf = (id: string) => {
    const row = store
      .stmt('SELECT version FROM prism_documents WHERE namespace = ? AND id = ?')
      .get(ns, id) as { version: number } | undefined;
    return row === undefined ? undefined : BigInt(row.version);
  };

  const basic: DocumentBasicImpl = {
    put: (req) => {
      const { json } = prepareDocument(req.json, limits);
      return store.transaction(() => {
        const cur = versionOf(req.id);
        if (!versionMatches(req.expectedVersion, cur))
          throw versionMismatch(req.id, req.expectedVersion!, cur);
        const version = (cur ?? 0n) + 1n;
        store
          .stmt(
            `INSERT INTO prism_documents (namespace, id, body, version) VALUES (?, ?, ?, ?)
             ON CONFLICT (namespace, id) DO UPDATE SET body = excluded.body, version = excluded.version`,
          )
          .run(ns, req.id, json, version);
        return { version };
      });
    },
    get: (req) =>
      store.guard(() => {
        const row = store
          .stmt('SELECT id, body, version FROM prism_documents WHERE namespace = ? AND id = ?')
          .get(ns, req.id) as Row | undefined;
        return row
          ? { found: true, document: { id: row.id, json: row.body, version: BigInt(row.version) } }
          : { found: false };
      }),
    patch: (req) =>
      store.transaction(() => {
        const row = store
          .stmt('SELECT id, body, version FROM prism_documents WHERE namespace = ? AND id = ?')
          .get(ns, req.id) as Row | undefined;
        if (!row)
          throw notFound(`document "${req.id}" does not exist; Patch changes existing documents (use Put)`);
        const version = BigInt(row.version);
        if (!versionMatches(req.expectedVersion, version))
          throw versionMismatch(req.id, req.expectedVersion!, version);
        const { json } = patchDocument(row.body, req.mergePatch, limits);
        store
          .stmt('UPDATE prism_documents SET body = ?, version = ? WHERE namespace = ? AND id = ?')
          .run(json, version + 1n, ns, req.id);
        return { document: { id: req.id, json, version: version + 1n } };
      }),
    delete: (req) =>
      store.transaction(() => {
        const cur = versionOf(req.id);
        if (!versionMatches(req.expectedVersion, cur))
          throw versionMismatch(req.id, req.expectedVersion!, cur);
        if (cur === undefined) return { deleted: false };
        store.stmt('DELETE FROM prism_documents WHERE namespace = ? AND id = ?').run(ns, req.id);
        return { deleted: true };
      }),
  };

  const select = (
    filter: Filter | undefined,
    sort: readonly CompiledSortKey[],
    after: SortTuple | undefined,
    n: number,
  ) => {
    const p = new Params();
    // The namespace as a literal, as in the partial indexes: SQLite uses a partial index only when the
    // query states its WHERE term itself, which a bound parameter does not.
    const nsParam = sqlLiteral(ns);
    const where = filter === undefined ? '1' : translate(filter, p).sql;
    const { orderBy, keyset } = ordering(sort, after, p);
    return {
      text: `SELECT id, body, version FROM prism_documents WHERE namespace = ${nsParam} AND ${where} AND ${keyset}
        ORDER BY ${orderBy} LIMIT ${n}`,
      params: p.values,
    };
  };

  const query: DocumentQueryImpl = {
    query: (req) => {
      const q = compileQuery(req);
      return collectPage(q, async (after, n) => {
        const { text, params } = select(q.filter, q.sort, after, n);
        const rows = store.guard(() => store.stmt(text).all(...params) as Row[]);
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

  const relname = (name: string) =>
    `prism_doc_${createHash('sha256').update(ns).digest('hex').slice(0, 12)}_${name}`;
  const declared = () =>
    (
      store
        .stmt('SELECT name, paths, relname FROM prism_document_indexes WHERE namespace = ? ORDER BY name')
        .all(ns) as { name: string; paths: string; relname: string }[]
    ).map((r) => ({ name: r.name, paths: JSON.parse(r.paths) as string[], relname: r.relname }));

  const indexing: DocumentIndexingImpl = {
    createIndex: (req) => {
      const { name, paths } = req.index!;
      const exprs = paths.map((path) => pathExpr(parsePath(path)).v);
      return store.transaction(() => {
        const existing = store
          .stmt('SELECT paths FROM prism_document_indexes WHERE namespace = ? AND name = ?')
          .get(ns, name) as { paths: string } | undefined;
        if (existing) {
          const have = JSON.parse(existing.paths) as string[];
          if (samePaths(have, paths)) return { created: false };
          throw indexNameTaken(name, have);
        }
        const { n } = store
          .stmt('SELECT count(*) AS n FROM prism_document_indexes WHERE namespace = ?')
          .get(ns) as {
          n: number;
        };
        if (n >= INDEX_LIMITS.maxIndexes) throw tooManyIndexes();
        const rel = relname(name);
        store
          .stmt('INSERT INTO prism_document_indexes (namespace, name, paths, relname) VALUES (?, ?, ?, ?)')
          .run(ns, name, JSON.stringify(paths), rel);
        // Partial to the namespace (its rows and statistics are the namespace's alone), ended by id so
        // equality on the paths reads rows in page order. The name is [a-z0-9_].
        store
          .stmt(
            `CREATE INDEX IF NOT EXISTS "${rel}" ON prism_documents (${exprs.join(', ')}, id) WHERE namespace = ${sqlLiteral(ns)}`,
          )
          .run();
        // Without statistics SQLite prefers the primary key (it yields id order, no sort) over any
        // secondary index of a WITHOUT ROWID table; ANALYZE tells it how selective the new index is.
        store.stmt('ANALYZE prism_documents').run();
        return { created: true };
      });
    },
    dropIndex: (req) =>
      store.transaction(() => {
        const row = store
          .stmt('SELECT relname FROM prism_document_indexes WHERE namespace = ? AND name = ?')
          .get(ns, req.name) as { relname: string } | undefined;
        if (!row) return { dropped: false };
        store.stmt('DELETE FROM prism_document_indexes WHERE namespace = ? AND name = ?').run(ns, req.name);
        store.stmt(`DROP INDEX IF EXISTS "${row.relname}"`).run();
        return { dropped: true };
      }),
    listIndexes: () =>
      store.guard(() => ({ indexes: declared().map((i) => ({ name: i.name, paths: i.paths })) })),
    explain: (req) => {
      const { sort } = compileFilterAndSort(req.filter, req.sort);
      const { text, params } = select(req.filter, sort, undefined, 101);
      return store.guard(() => {
        const rows = store.stmt(`EXPLAIN QUERY PLAN ${text}`).all(...params) as { detail: string }[];
        const plan = rows.map((r) => r.detail).join('\n');
        const used = declared()
          .filter((i) => new RegExp(`\\b${i.relname}\\b`).test(plan))
          .map((i) => i.name);
        return { plan, indexesUsed: used };
      });
    },
  };

  return {
    bindings: [
      implement(DocumentBasic, basic),
      implement(DocumentQuery, query),
      implement(DocumentIndexing, indexing),
    ],
  };
}
