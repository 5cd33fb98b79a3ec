import type { JsonObject } from '@bufbuild/protobuf';
import {
  type AnalyticsSource,
  analyticsImpl,
  GraphAnalytics,
  subgraphTooLarge,
} from '@prism/graph-analytics';
import {
  type Edge,
  GraphBasic,
  type GraphBasicImpl,
  mergeProperties,
  normaliseProperties,
  type Properties,
  type Vertex,
} from '@prism/graph-basic';
import {
  checkDepth,
  Direction,
  directionOf,
  type EdgeFilter,
  effectiveLimit,
  GraphTraversal,
  type GraphTraversalImpl,
} from '@prism/graph-traversal';
import {
  alreadyExists,
  type Binding,
  ConnectError,
  failedPrecondition,
  implement,
  invalidArgument,
  notFound,
} from '@prism/sdk';
import type { PendingQuery, Row, TransactionSql } from 'postgres';
import type { PgClient, Sql } from './client.js';
import { ensureSchemaObjects } from './ddl.js';
import { sqlState } from './errors.js';

/** The graph interfaces this adapter implements (graph_query is Gremlin's). */
export const GRAPH_INTERFACES = [GraphBasic, GraphTraversal, GraphAnalytics];

/**
 * Tables in `<schema>`, shared by all namespaces (`namespace` leads each key): `graph_vertices` keyed by
 * (namespace, id) and `graph_edges` keyed by (namespace, id), whose endpoints are foreign keys to the
 * vertices with ON DELETE CASCADE (no edge outlives an endpoint, whoever deletes it). Traversals step
 * along the out index (namespace, from_id, label) and the in index (namespace, to_id, label). Properties
 * are jsonb objects of scalars.
 */
function schemaStatements(schema: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${schema}."graph_vertices" (
       namespace  text COLLATE "C" NOT NULL,
       id         text COLLATE "C" NOT NULL,
       label      text COLLATE "C" NOT NULL,
       properties jsonb NOT NULL DEFAULT '{}',
       PRIMARY KEY (namespace, id)
     )`,
    `CREATE TABLE IF NOT EXISTS ${schema}."graph_edges" (
       namespace  text COLLATE "C" NOT NULL,
       id         text COLLATE "C" NOT NULL,
       label      text COLLATE "C" NOT NULL,
       from_id    text COLLATE "C" NOT NULL,
       to_id      text COLLATE "C" NOT NULL,
       properties jsonb NOT NULL DEFAULT '{}',
       PRIMARY KEY (namespace, id),
       CONSTRAINT graph_edges_from_fk FOREIGN KEY (namespace, from_id)
         REFERENCES ${schema}."graph_vertices" (namespace, id) ON DELETE CASCADE,
       CONSTRAINT graph_edges_to_fk FOREIGN KEY (namespace, to_id)
         REFERENCES ${schema}."graph_vertices" (namespace, id) ON DELETE CASCADE
     )`,
    `CREATE INDEX IF NOT EXISTS "graph_edges_out" ON ${schema}."graph_edges" (namespace, from_id, label)`,
    `CREATE INDEX IF NOT EXISTS "graph_edges_in" ON ${schema}."graph_edges" (namespace, to_id, label)`,
  ];
}

/** `backend.config` settings the graph part reads. */
export interface GraphSettings {
  /** The deepest traversal a request may ask for. */
  readonly maxTraversalDepth: number;
}

type VertexRow = { id: string; label: string; properties: Properties };
type EdgeRow = VertexRow & { from_id: string; to_id: string };

const vertexOf = (r: VertexRow): Vertex =>
  ({ id: r.id, label: r.label, properties: r.properties as JsonObject }) as Vertex;
const edgeOf = (r: EdgeRow): Edge =>
  ({
    id: r.id,
    label: r.label,
    fromId: r.from_id,
    toId: r.to_id,
    properties: r.properties as JsonObject,
  }) as Edge;

/** jsonb cannot hold U+0000 (SQLSTATE 22P05): say so as INVALID_ARGUMENT instead of INTERNAL. */
function rejectNul(err: unknown): never {
  const cause = err instanceof ConnectError ? err.cause : err;
  if (sqlState(cause) === '22P05')
    throw invalidArgument('a property value holds U+0000, which PostgreSQL jsonb cannot store');
  throw err;
}

/** A text[] of `xs`, sent as one jsonb parameter (one prepared statement for any count). */
const textArray = (q: Sql | TransactionSql, xs: readonly string[]) =>
  q`ARRAY(SELECT jsonb_array_elements_text(${q.json([...xs])}::jsonb))`;

/** The graph part of the adapter: bindings and the start-up step. */
export function graphs(
  client: PgClient,
  settings: GraphSettings,
): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const vertices = sql(`${client.config.schema}.graph_vertices`);
  const edges = sql(`${client.config.schema}.graph_edges`);
  const maxDepth = settings.maxTraversalDepth;

  /**
   * One step from the vertex `cur` (an SQL expression) along `filter`: rows (id = the vertex reached,
   * eid = the edge taken). A self-loop reaches `cur` itself; BOTH follows each edge in each direction.
   */
  const step = (q: Sql | TransactionSql, cur: PendingQuery<Row[]>, filter: EdgeFilter | undefined) => {
    const labels = filter?.labels ?? [];
    const byLabel = labels.length === 0 ? q`` : q`AND e.label = ANY(${textArray(q, labels)})`;
    const out = q`SELECT e.to_id AS id, e.id AS eid FROM ${edges} e
      WHERE e.namespace = ${ns} AND e.from_id = ${cur} ${byLabel}`;
    const inn = q`SELECT e.from_id AS id, e.id AS eid FROM ${edges} e
      WHERE e.namespace = ${ns} AND e.to_id = ${cur} ${byLabel}`;
    const dir = directionOf(filter);
    return dir === Direction.OUT ? out : dir === Direction.IN ? inn : q`${out} UNION ALL ${inn}`;
  };

  /**
   * A breadth-first walk from `seeds` as a recursive CTE named `walk(id, depth, path, edges)`: each level
   * keeps one row per vertex (DISTINCT ON), and a row never extends to a vertex already on its path, so
   * cycles end and a level holds at most every vertex once (not every path); depth stops it at `depth`.
   * A vertex's smallest depth is its distance, and its path a shortest one.
   */
  const walk = (seeds: PendingQuery<Row[]>, depth: number, filter: EdgeFilter | undefined) => sql`
    WITH RECURSIVE walk(id, depth, path, edges) AS (
      SELECT v.id, 0, ARRAY[v.id], ARRAY[]::text[] COLLATE "C" FROM ${vertices} v
      WHERE v.namespace = ${ns} AND v.id IN (${seeds})
      UNION ALL
      SELECT DISTINCT ON (n.id) n.id, w.depth + 1, w.path || n.id, w.edges || n.eid
      FROM walk w CROSS JOIN LATERAL (${step(sql, sql`w.id`, filter)}) n
      WHERE w.depth < ${depth} AND NOT n.id = ANY(w.path)
    )`;

  const basic: GraphBasicImpl = {
    async addVertex(req, ctx) {
      const v = req.vertex!;
      const properties = normaliseProperties(v.properties);
      const rows = await client
        .run(
          sql`INSERT INTO ${vertices} (namespace, id, label, properties)
            VALUES (${ns}, ${v.id}, ${v.label}, ${sql.json(properties)}::jsonb)
            ON CONFLICT (namespace, id) DO NOTHING RETURNING 1`,
          ctx,
        )
        .catch(rejectNul);
      if (rows.length === 0) throw alreadyExists(`vertex "${v.id}" already exists`);
      return { vertex: vertexOf({ id: v.id, label: v.label, properties }) };
    },
    async getVertex(req, ctx) {
      const [row] = await client.run(
        sql<
          VertexRow[]
        >`SELECT id, label, properties FROM ${vertices} WHERE namespace = ${ns} AND id = ${req.id}`,
        ctx,
      );
      return row ? { found: true, vertex: vertexOf(row) } : { found: false };
    },
    async updateVertex(req, ctx) {
      const row = await client
        .run(
          sql.begin(async (tx) => {
            const [cur] = await tx<VertexRow[]>`SELECT id, label, properties FROM ${vertices}
              WHERE namespace = ${ns} AND id = ${req.id} FOR UPDATE`;
            if (!cur) return undefined;
            const properties = mergeProperties(cur.properties, req.set, req.remove);
            await tx`UPDATE ${vertices} SET properties = ${sql.json(properties)}::jsonb
              WHERE namespace = ${ns} AND id = ${req.id}`;
            return { ...cur, properties };
          }),
          ctx,
        )
        .catch(rejectNul);
      if (!row) throw notFound(`vertex "${req.id}" does not exist`);
      return { vertex: vertexOf(row) };
    },
    // Locks the vertex first (FOR UPDATE conflicts with the key-share lock an edge insert takes on its
    // endpoints), so no edge appears between counting and deleting; the cascade would catch one anyway.
    async deleteVertex(req, ctx) {
      return client.run(
        sql.begin(async (tx) => {
          const found =
            await tx`SELECT 1 FROM ${vertices} WHERE namespace = ${ns} AND id = ${req.id} FOR UPDATE`;
          if (found.length === 0) return { deleted: false, deletedEdges: 0n };
          const gone = await tx`DELETE FROM ${edges}
            WHERE namespace = ${ns} AND (from_id = ${req.id} OR to_id = ${req.id}) RETURNING 1`;
          await tx`DELETE FROM ${vertices} WHERE namespace = ${ns} AND id = ${req.id}`;
          return { deleted: true, deletedEdges: BigInt(gone.length) };
        }),
        ctx,
      );
    },
    async addEdge(req, ctx) {
      const e = req.edge!;
      const properties = normaliseProperties(e.properties);
      const missing = (id: string, end: string) =>
        failedPrecondition(`edge "${e.id}": ${end} "${id}" is not a vertex; add the vertex first`);
      const outcome = await client
        .run(
          sql.begin(async (tx) => {
            const [state] = await tx<{ taken: boolean; from_ok: boolean; to_ok: boolean }[]>`SELECT
              EXISTS (SELECT 1 FROM ${edges} WHERE namespace = ${ns} AND id = ${e.id}) AS taken,
              EXISTS (SELECT 1 FROM ${vertices} WHERE namespace = ${ns} AND id = ${e.fromId}) AS from_ok,
              EXISTS (SELECT 1 FROM ${vertices} WHERE namespace = ${ns} AND id = ${e.toId}) AS to_ok`;
            if (state!.taken) return 'taken';
            if (!state!.from_ok) return 'from';
            if (!state!.to_ok) return 'to';
            const rows = await tx`INSERT INTO ${edges} (namespace, id, label, from_id, to_id, properties)
              VALUES (${ns}, ${e.id}, ${e.label}, ${e.fromId}, ${e.toId}, ${sql.json(properties)}::jsonb)
              ON CONFLICT (namespace, id) DO NOTHING RETURNING 1`;
            return rows.length === 0 ? 'taken' : 'added';
          }),
          ctx,
        )
        .catch((err: unknown) => {
          // A concurrent delete of an endpoint between the check and the insert: the foreign key says which.
          const cause = err instanceof ConnectError ? err.cause : err;
          if (sqlState(cause) === '23503') {
            const constraint = (cause as { constraint_name?: string }).constraint_name;
            throw constraint === 'graph_edges_to_fk'
              ? missing(e.toId, 'to_id')
              : missing(e.fromId, 'from_id');
          }
          return rejectNul(err);
        });
      if (outcome === 'taken') throw alreadyExists(`edge "${e.id}" already exists`);
      if (outcome === 'from') throw missing(e.fromId, 'from_id');
      if (outcome === 'to') throw missing(e.toId, 'to_id');
      return {
        edge: edgeOf({ id: e.id, label: e.label, from_id: e.fromId, to_id: e.toId, properties }),
      };
    },
    async getEdge(req, ctx) {
      const [row] = await client.run(
        sql<EdgeRow[]>`SELECT id, label, from_id, to_id, properties FROM ${edges}
          WHERE namespace = ${ns} AND id = ${req.id}`,
        ctx,
      );
      return row ? { found: true, edge: edgeOf(row) } : { found: false };
    },
    async updateEdge(req, ctx) {
      const row = await client
        .run(
          sql.begin(async (tx) => {
            const [cur] = await tx<EdgeRow[]>`SELECT id, label, from_id, to_id, properties FROM ${edges}
              WHERE namespace = ${ns} AND id = ${req.id} FOR UPDATE`;
            if (!cur) return undefined;
            const properties = mergeProperties(cur.properties, req.set, req.remove);
            await tx`UPDATE ${edges} SET properties = ${sql.json(properties)}::jsonb
              WHERE namespace = ${ns} AND id = ${req.id}`;
            return { ...cur, properties };
          }),
          ctx,
        )
        .catch(rejectNul);
      if (!row) throw notFound(`edge "${req.id}" does not exist`);
      return { edge: edgeOf(row) };
    },
    async deleteEdge(req, ctx) {
      const rows = await client.run(
        sql`DELETE FROM ${edges} WHERE namespace = ${ns} AND id = ${req.id} RETURNING 1`,
        ctx,
      );
      return { deleted: rows.length > 0 };
    },
  };

  const traversal: GraphTraversalImpl = {
    async neighbors(req, ctx) {
      const limit = effectiveLimit(req.limit);
      const rows = await client.run(
        sql<VertexRow[]>`SELECT v.id, v.label, v.properties FROM ${vertices} v
          WHERE v.namespace = ${ns} AND v.id IN (SELECT n.id FROM (${step(sql, sql`${req.vertexId}::text`, req.edges)}) n)
          ORDER BY v.id LIMIT ${limit + 1}`,
        ctx,
      );
      return { vertices: rows.slice(0, limit).map(vertexOf), truncated: rows.length > limit };
    },
    async kHop(req, ctx) {
      checkDepth(req.depth, maxDepth);
      const limit = effectiveLimit(req.limit);
      const rows = await client.run(
        sql<(VertexRow & { depth: number })[]>`${walk(sql`${req.startId}::text`, req.depth, req.edges)}
          SELECT v.id, v.label, v.properties, m.depth
          FROM (SELECT id, min(depth) AS depth FROM walk WHERE depth > 0 GROUP BY id) m
          JOIN ${vertices} v ON v.namespace = ${ns} AND v.id = m.id
          ORDER BY m.depth, v.id LIMIT ${limit + 1}`,
        ctx,
      );
      return {
        vertices: rows.slice(0, limit).map((r) => ({ vertex: vertexOf(r), depth: Number(r.depth) })),
        truncated: rows.length > limit,
      };
    },
    // Levels come out of the recursive CTE in order and are computed only as the outer query pulls, so
    // LIMIT 1 stops the walk at the first level that reaches to_id: a path with the fewest steps.
    async shortestPath(req, ctx) {
      const depth = req.maxDepth === 0 ? maxDepth : req.maxDepth;
      checkDepth(depth, maxDepth, 'max_depth');
      const [row] = await client.run(
        sql<{ path: string[]; edges: string[] }[]>`${walk(sql`${req.fromId}::text`, depth, req.edges)}
          SELECT to_jsonb(path) AS path, to_jsonb(edges) AS edges FROM walk WHERE id = ${req.toId} LIMIT 1`,
        ctx,
      );
      return row
        ? { found: true, vertexIds: row.path, edgeIds: row.edges }
        : { found: false, vertexIds: [], edgeIds: [] };
    },
  };

  const source: AnalyticsSource = {
    // Per id: the out-edges and/or in-edges with an allowed label (a self-loop is in both lists).
    async degree(_namespace, ids, filter, ctx) {
      const labels = filter?.labels ?? [];
      const byLabel = labels.length === 0 ? sql`` : sql`AND e.label = ANY(${textArray(sql, labels)})`;
      const dir = directionOf(filter);
      const out = sql`(SELECT count(*) FROM ${edges} e WHERE e.namespace = ${ns} AND e.from_id = x.id ${byLabel})`;
      const inn = sql`(SELECT count(*) FROM ${edges} e WHERE e.namespace = ${ns} AND e.to_id = x.id ${byLabel})`;
      const count = dir === Direction.OUT ? out : dir === Direction.IN ? inn : sql`${out} + ${inn}`;
      const rows = await client.run(
        sql<{ n: string }[]>`SELECT (${count})::text AS n
          FROM jsonb_array_elements_text(${sql.json([...ids])}::jsonb) WITH ORDINALITY AS x(id, i) ORDER BY x.i`,
        ctx,
      );
      return rows.map((r) => Number(r.n));
    },
    async subgraph(_namespace, sub, maxVertices, ctx) {
      const seeds = sql`SELECT jsonb_array_elements_text(${sql.json([...sub.seedIds])}::jsonb)`;
      const found = await client.run(
        sql<{ id: string }[]>`${walk(seeds, sub.depth, sub.edges)}
          SELECT DISTINCT id FROM walk LIMIT ${maxVertices + 1}`,
        ctx,
      );
      if (found.length > maxVertices) throw subgraphTooLarge(maxVertices);
      const ids = found.map((r) => r.id);
      const labels = sub.edges?.labels ?? [];
      const byLabel = labels.length === 0 ? sql`` : sql`AND e.label = ANY(${textArray(sql, labels)})`;
      const rows = await client.run(
        sql<{ from_id: string; to_id: string }[]>`
          WITH s AS MATERIALIZED (SELECT x COLLATE "C" AS id FROM jsonb_array_elements_text(${sql.json(ids)}::jsonb) AS x)
          SELECT e.from_id, e.to_id FROM s JOIN ${edges} e ON e.namespace = ${ns} AND e.from_id = s.id
          WHERE e.to_id IN (SELECT id FROM s) ${byLabel}`,
        ctx,
      );
      return { vertexIds: ids, edges: rows.map((r) => ({ from: r.from_id, to: r.to_id })) };
    },
  };

  return {
    bindings: [
      implement(GraphBasic, basic),
      implement(GraphTraversal, traversal),
      implement(GraphAnalytics, analyticsImpl(source, { maxTraversalDepth: maxDepth })),
    ],
    start: () => ensureSchemaObjects(client, client.config.schema, schemaStatements),
  };
}
