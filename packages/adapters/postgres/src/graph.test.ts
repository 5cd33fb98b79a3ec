import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { DegreeRequestSchema, GraphAnalytics, PageRankRequestSchema } from '@prism/graph-analytics';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  DeleteVertexRequestSchema,
  GetEdgeRequestSchema,
  GraphBasic,
} from '@prism/graph-basic';
import {
  Direction,
  GraphTraversal,
  KHopRequestSchema,
  NeighborsRequestSchema,
  ShortestPathRequestSchema,
} from '@prism/graph-traversal';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code } from '@prism/sdk';
import { useTestDatabase } from './database.test-util.js';

const db = useTestDatabase();
const ctx = { signal: new AbortController().signal };

async function open(namespace: string, config: Record<string, unknown> = {}) {
  const h = await db.open({ pool_size: 3, ...config }, { namespace });
  const basic = h.get(GraphBasic)!;
  const trav = h.get(GraphTraversal)!;
  const analytics = h.get(GraphAnalytics)!;
  return {
    vertex: async (id: string, properties: Record<string, string | number | boolean> = {}) =>
      basic.addVertex(
        create(AddVertexRequestSchema, { namespace, vertex: { id, label: 'node', properties } }),
        ctx,
      ),
    edge: async (id: string, fromId: string, toId: string, label = 'link') =>
      basic.addEdge(create(AddEdgeRequestSchema, { namespace, edge: { id, label, fromId, toId } }), ctx),
    deleteVertex: async (id: string) =>
      basic.deleteVertex(create(DeleteVertexRequestSchema, { namespace, id }), ctx),
    getEdge: async (id: string) => basic.getEdge(create(GetEdgeRequestSchema, { namespace, id }), ctx),
    neighbors: async (vertexId: string, direction: Direction, labels: string[] = []) =>
      (
        await trav.neighbors(
          create(NeighborsRequestSchema, { namespace, vertexId, edges: { direction, labels } }),
          ctx,
        )
      ).vertices!.map((v) => v.id),
    kHop: async (startId: string, depth: number, direction = Direction.OUT, limit = 0) =>
      trav.kHop(create(KHopRequestSchema, { namespace, startId, depth, limit, edges: { direction } }), ctx),
    path: async (fromId: string, toId: string, direction = Direction.OUT, maxDepth = 0) =>
      trav.shortestPath(
        create(ShortestPathRequestSchema, { namespace, fromId, toId, maxDepth, edges: { direction } }),
        ctx,
      ),
    degree: async (vertexIds: string[], direction: Direction) =>
      (
        await analytics.degree(
          create(DegreeRequestSchema, { namespace, vertexIds, edges: { direction } }),
          ctx,
        )
      ).degrees!.map((d) => Number(d.degree)),
    pageRank: async (seedIds: string[], depth: number) =>
      analytics.pageRank(
        create(PageRankRequestSchema, {
          namespace,
          subgraph: { seedIds, depth, edges: { direction: Direction.BOTH } },
        }),
        ctx,
      ),
  };
}

const edgeRows = (ns: string) =>
  db.direct<{ id: string; from_id: string; to_id: string }[]>`SELECT id, from_id, to_id FROM prism.graph_edges
    WHERE namespace = ${ns} ORDER BY id`;

describe('postgres adapter: graphs as rows of prism.graph_vertices and prism.graph_edges', () => {
  it('stores vertices and edges as rows and cascades a vertex delete to its edge rows', async () => {
    const ns = uniqueNamespace('pggraph');
    const g = await open(ns);
    await g.vertex('a', { name: 'Ann', age: 41, admin: true });
    await g.vertex('b');
    await g.vertex('c');
    await g.edge('ab', 'a', 'b');
    await g.edge('bc', 'b', 'c');
    await g.edge('bb', 'b', 'b'); // a self-loop
    const [a] = await db.direct<{ label: string; properties: unknown }[]>`SELECT label, properties
      FROM prism.graph_vertices WHERE namespace = ${ns} AND id = 'a'`;
    expect(a).toEqual({ label: 'node', properties: { name: 'Ann', age: 41, admin: true } });
    expect(await edgeRows(ns)).toEqual([
      { id: 'ab', from_id: 'a', to_id: 'b' },
      { id: 'bb', from_id: 'b', to_id: 'b' },
      { id: 'bc', from_id: 'b', to_id: 'c' },
    ]);
    const res = await g.deleteVertex('b');
    expect(res).toMatchObject({ deleted: true, deletedEdges: 3n });
    expect(await edgeRows(ns)).toEqual([]);
    // The foreign keys cascade for deletes behind the adapter's back too.
    await g.vertex('b');
    await g.edge('ab', 'a', 'b');
    await db.direct`DELETE FROM prism.graph_vertices WHERE namespace = ${ns} AND id = 'a'`;
    expect(await edgeRows(ns)).toEqual([]);
    expect((await g.getEdge('ab')).found).toBe(false);
    await expect(g.edge('bz', 'b', 'z')).rejects.toMatchObject({ code: Code.FailedPrecondition });
    await expect(g.edge('bz', 'b', 'z')).rejects.toThrow(/to_id "z"/);
  });

  it('keeps namespaces apart in the shared tables', async () => {
    const [n1, n2] = [uniqueNamespace('pgg1'), uniqueNamespace('pgg2')];
    const g1 = await open(n1);
    const g2 = await open(n2);
    await g1.vertex('x');
    await g2.vertex('x');
    await g2.vertex('y');
    await g2.edge('xy', 'x', 'y');
    expect(await g1.neighbors('x', Direction.OUT)).toEqual([]);
    expect(await g2.neighbors('x', Direction.OUT)).toEqual(['y']);
  });

  it('walks cyclic and dense graphs with recursive CTEs that terminate', async () => {
    const ns = uniqueNamespace('pgcycle');
    const g = await open(ns);
    // A directed ring of 40 and a complete digraph of 20 hanging off r0: walking every simple path of
    // the clique to depth 6 would be 19·18·…·14 ≈ 2·10^7 rows; one row per vertex and level stays small.
    const ring = Array.from({ length: 40 }, (_, i) => `r${i}`);
    const clique = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const id of [...ring, ...clique]) await g.vertex(id);
    await db.direct`INSERT INTO prism.graph_edges (namespace, id, label, from_id, to_id)
      SELECT ${ns}, 'ring' || i, 'link', 'r' || i, 'r' || ((i + 1) % 40) FROM generate_series(0, 39) AS i`;
    await db.direct`INSERT INTO prism.graph_edges (namespace, id, label, from_id, to_id)
      SELECT ${ns}, 'k' || a || '-' || b, 'link', 'k' || a, 'k' || b
      FROM generate_series(0, 19) AS a, generate_series(0, 19) AS b WHERE a <> b`;
    await g.edge('bridge', 'r0', 'k0');
    const started = Date.now();
    const hop = await g.kHop('r0', 6, Direction.OUT);
    expect(Date.now() - started).toBeLessThan(5000);
    const depths = Object.fromEntries(hop.vertices!.map((v) => [v.vertex!.id, v.depth]));
    expect(depths.r1).toBe(1);
    expect(depths.r6).toBe(6);
    expect(depths.k0).toBe(1);
    expect(depths.k19).toBe(2);
    expect(depths.r0).toBeUndefined(); // the start, even though the ring leads back to it
    expect(hop.vertices).toHaveLength(6 + 20);
    const inside = await g.kHop('k0', 6, Direction.BOTH);
    expect(inside.vertices).toHaveLength(19 + 1 + 5 + 5);
    expect(Date.now() - started).toBeLessThan(5000);
    // Around the whole ring backwards is 1 step along IN; the cycle never loops.
    const back = await g.kHop('r0', 6, Direction.IN);
    expect(back.vertices!.map((v) => [v.vertex!.id, v.depth])).toEqual(
      [39, 38, 37, 36, 35, 34].map((i, d) => [`r${i}`, d + 1]),
    );
    const path = await g.path('r38', 'k5');
    expect(path).toMatchObject({ found: true, vertexIds: ['r38', 'r39', 'r0', 'k0', 'k5'] });
    expect(path.edgeIds).toEqual(['ring38', 'ring39', 'bridge', 'k0-5']);
    expect((await g.path('k5', 'r1')).found).toBe(false); // no edge leaves the clique
    expect((await g.path('r10', 'r30', Direction.OUT, 6)).found).toBe(false); // 20 steps away
    const limited = await g.kHop('r0', 3, Direction.BOTH, 5);
    expect(limited.truncated).toBe(true);
    expect(limited.vertices).toHaveLength(5);
  });

  it('bounds depth by max_traversal_depth from the config', async () => {
    const ns = uniqueNamespace('pgdepth');
    const g = await open(ns, { max_traversal_depth: 3 });
    await g.vertex('a');
    await expect(g.kHop('a', 4)).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(g.kHop('a', 4)).rejects.toThrow(/max_traversal_depth \(3\)/);
    await expect(g.path('a', 'a', Direction.OUT, 4)).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect((await g.kHop('a', 3)).vertices).toEqual([]);
  });

  it('counts degree in SQL and runs PageRank over the fetched subgraph', async () => {
    const ns = uniqueNamespace('pgana');
    const g = await open(ns);
    for (const id of ['a', 'b', 'c', 'lone']) await g.vertex(id);
    await g.edge('ab', 'a', 'b');
    await g.edge('ac', 'a', 'c');
    await g.edge('cc', 'c', 'c');
    expect(await g.degree(['a', 'c', 'missing'], Direction.OUT)).toEqual([2, 1, 0]);
    expect(await g.degree(['a', 'c', 'missing'], Direction.BOTH)).toEqual([2, 3, 0]);
    const pr = await g.pageRank(['a'], 1);
    expect(pr.scores!.map((s) => s.vertexId).sort()).toEqual(['a', 'b', 'c']);
    expect(pr.scores!.reduce((s, x) => s + x.score!, 0)).toBeCloseTo(1, 9);
  });
});
