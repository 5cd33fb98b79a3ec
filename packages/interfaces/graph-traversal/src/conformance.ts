import { create, type JsonObject } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  DeleteVertexRequestSchema,
  GraphBasic,
  type GraphBasicImpl,
} from '@prism/graph-basic';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  DEFAULT_MAX_TRAVERSAL_DEPTH,
  Direction,
  GraphTraversal,
  type GraphTraversalImpl,
  KHopRequestSchema,
  MAX_TRAVERSAL_DEPTH_CEILING,
  NeighborsRequestSchema,
  ShortestPathRequestSchema,
} from './index.js';

// The suites run with the default max_traversal_depth.
const MAX = DEFAULT_MAX_TRAVERSAL_DEPTH;
const ctx = { signal: new AbortController().signal };

/** Which edges to follow, as the suite writes it. */
export interface Follow {
  direction?: 'out' | 'in' | 'both';
  labels?: string[];
}
const DIRECTIONS = { out: Direction.OUT, in: Direction.IN, both: Direction.BOTH } as const;
/** An EdgeFilter's fields from a {@link Follow}. */
export const edgeFilter = (f: Follow = {}) => ({
  direction: f.direction ? DIRECTIONS[f.direction] : Direction.UNSPECIFIED,
  labels: f.labels ?? [],
});

/** Small typed client over a graph_traversal implementation, used by this and other suites. */
export function graphTraversal(impl: GraphTraversalImpl, namespace: string) {
  return {
    neighbors: async (vertexId: string, follow?: Follow, limit = 0) => {
      const res = await impl.neighbors(
        create(NeighborsRequestSchema, { namespace, vertexId, edges: edgeFilter(follow), limit }),
        ctx,
      );
      return { ids: (res.vertices ?? []).map((v) => v.id ?? ''), truncated: res.truncated ?? false, res };
    },
    kHop: async (startId: string, depth: number, follow?: Follow, limit = 0) => {
      const res = await impl.kHop(
        create(KHopRequestSchema, { namespace, startId, depth, edges: edgeFilter(follow), limit }),
        ctx,
      );
      return {
        hops: (res.vertices ?? []).map((v) => `${v.vertex?.id}@${v.depth ?? 0}`),
        truncated: res.truncated ?? false,
        res,
      };
    },
    shortestPath: async (fromId: string, toId: string, follow?: Follow, maxDepth = 0) => {
      const res = await impl.shortestPath(
        create(ShortestPathRequestSchema, { namespace, fromId, toId, edges: edgeFilter(follow), maxDepth }),
        ctx,
      );
      return { found: res.found ?? false, vertexIds: res.vertexIds ?? [], edgeIds: res.edgeIds ?? [] };
    },
  };
}

/** graph_basic of a handle; the graph suites load their data through it. */
export function graphBasicOf(handle: PluginHandle): GraphBasicImpl {
  const impl = handle.get(GraphBasic);
  if (!impl) throw new Error(`${handle.plugin} does not implement graph_basic, which the graph suites need`);
  return impl;
}

/** A graph to load: vertices as [id, label, properties?], edges as [id, label, from, to]. */
export interface Fixture {
  vertices: [string, string, JsonObject?][];
  edges: [string, string, string, string][];
}

/** Loads a fixture through graph_basic. */
export async function loadFixture(handle: PluginHandle, namespace: string, fixture: Fixture): Promise<void> {
  const basic = graphBasicOf(handle);
  for (const [id, label, properties] of fixture.vertices)
    await basic.addVertex(
      create(AddVertexRequestSchema, { namespace, vertex: { id, label, properties } }),
      ctx,
    );
  for (const [id, label, fromId, toId] of fixture.edges)
    await basic.addEdge(create(AddEdgeRequestSchema, { namespace, edge: { id, label, fromId, toId } }), ctx);
}

/**
 * The suite's graph: a knows-cycle a→b→c→a with a parallel a→b, c lives_in d, a self-loop on e, e→a,
 * b likes e, and an isolated z.
 */
export const TRAVERSAL_FIXTURE: Fixture = {
  vertices: [
    ['a', 'person', { name: 'A', age: 30 }],
    ['b', 'person', { name: 'B' }],
    ['c', 'person', { name: 'C' }],
    ['d', 'city', { name: 'D' }],
    ['e', 'person', { name: 'E' }],
    ['z', 'person'],
  ],
  edges: [
    ['k1', 'knows', 'a', 'b'],
    ['k2', 'knows', 'a', 'b'],
    ['k3', 'knows', 'b', 'c'],
    ['k4', 'knows', 'c', 'a'],
    ['l1', 'lives_in', 'c', 'd'],
    ['s1', 'knows', 'e', 'e'],
    ['k5', 'knows', 'e', 'a'],
    ['lk1', 'likes', 'b', 'e'],
  ],
};

/**
 * The graph_traversal conformance suite: directions and label filters, distinct and ordered neighbours,
 * k-hop smallest depths and ordering, cycles and self-loops, limits, shortest paths, depth bounds (the
 * namespace's max_traversal_depth is assumed to be the default, DEFAULT_MAX_TRAVERSAL_DEPTH) and namespace isolation.
 */
export function describeGraphTraversalConformance(label: string, factory: PluginFactory): void {
  describe(`graph_traversal conformance: ${label}`, () => {
    let handle: PluginHandle;
    let t: ReturnType<typeof graphTraversal>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(GraphTraversal);
      if (!impl) throw new Error(`${label} does not implement graph_traversal`);
      t = graphTraversal(impl, namespace);
      await loadFixture(handle, namespace, TRAVERSAL_FIXTURE);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('returns distinct neighbours ordered by id, out by default, in and both on request', async () => {
      expect((await t.neighbors('a')).ids).toEqual(['b']);
      expect((await t.neighbors('a', { direction: 'out' })).ids).toEqual(['b']);
      expect((await t.neighbors('a', { direction: 'in' })).ids).toEqual(['c', 'e']);
      expect((await t.neighbors('a', { direction: 'both' })).ids).toEqual(['b', 'c', 'e']);
      expect((await t.neighbors('c')).ids).toEqual(['a', 'd']);
      expect((await t.neighbors('d')).ids).toEqual([]);
      expect((await t.neighbors('d', { direction: 'in' })).ids).toEqual(['c']);
      expect((await t.neighbors('z', { direction: 'both' })).ids).toEqual([]);
    });

    it('returns whole vertices with label and properties', async () => {
      const { res } = await t.neighbors('c', { labels: ['lives_in'] });
      expect(res.vertices).toHaveLength(1);
      expect(res.vertices?.[0]).toMatchObject({ id: 'd', label: 'city', properties: { name: 'D' } });
      const hop = await t.kHop('b', 1);
      expect(hop.res.vertices?.[0]?.vertex).toMatchObject({
        id: 'c',
        label: 'person',
        properties: { name: 'C' },
      });
    });

    it('follows only the given edge labels', async () => {
      expect((await t.neighbors('c', { labels: ['knows'] })).ids).toEqual(['a']);
      expect((await t.neighbors('c', { labels: ['lives_in'] })).ids).toEqual(['d']);
      expect((await t.neighbors('c', { labels: ['knows', 'lives_in'] })).ids).toEqual(['a', 'd']);
      expect((await t.neighbors('b', { labels: ['likes'] })).ids).toEqual(['e']);
      expect((await t.neighbors('b', { labels: ['nope'] })).ids).toEqual([]);
      expect((await t.neighbors('e', { direction: 'in', labels: ['likes'] })).ids).toEqual(['b']);
    });

    it('counts a self-loop as a step to the vertex itself', async () => {
      expect((await t.neighbors('e')).ids).toEqual(['a', 'e']);
      expect((await t.neighbors('e', { direction: 'in' })).ids).toEqual(['b', 'e']);
      expect((await t.neighbors('e', { direction: 'both' })).ids).toEqual(['a', 'b', 'e']);
    });

    it('answers no neighbours and no hops for a missing start, without error', async () => {
      expect(await t.neighbors('ghost')).toMatchObject({ ids: [], truncated: false });
      expect(await t.kHop('ghost', 3)).toMatchObject({ hops: [], truncated: false });
    });

    it('cuts neighbours at limit and says so', async () => {
      expect(await t.neighbors('a', { direction: 'both' }, 2)).toMatchObject({
        ids: ['b', 'c'],
        truncated: true,
      });
      expect(await t.neighbors('a', { direction: 'both' }, 3)).toMatchObject({
        ids: ['b', 'c', 'e'],
        truncated: false,
      });
      expect(await t.neighbors('a', { direction: 'both' }, 1)).toMatchObject({ ids: ['b'], truncated: true });
    });

    it('returns k-hop vertices once with their smallest depth, ordered by depth then id, never the start', async () => {
      expect((await t.kHop('a', 1)).hops).toEqual(['b@1']);
      expect((await t.kHop('a', 2)).hops).toEqual(['b@1', 'c@2', 'e@2']);
      // c→a and e→a lead back to the start, which stays out.
      expect((await t.kHop('a', 3)).hops).toEqual(['b@1', 'c@2', 'e@2', 'd@3']);
      expect((await t.kHop('a', MAX)).hops).toEqual(['b@1', 'c@2', 'e@2', 'd@3']);
      expect((await t.kHop('a', 2, { direction: 'both' })).hops).toEqual(['b@1', 'c@1', 'e@1', 'd@2']);
      expect((await t.kHop('a', 2, { direction: 'in' })).hops).toEqual(['c@1', 'e@1', 'b@2']);
      // The self-loop on e does not put e in its own result.
      expect((await t.kHop('e', 3)).hops).toEqual(['a@1', 'b@2', 'c@3']);
      expect((await t.kHop('z', MAX, { direction: 'both' })).hops).toEqual([]);
    });

    it('filters k-hop by edge label', async () => {
      expect((await t.kHop('a', MAX, { labels: ['knows'] })).hops).toEqual(['b@1', 'c@2']);
      expect((await t.kHop('b', MAX, { labels: ['likes', 'knows'] })).hops).toEqual(['c@1', 'e@1', 'a@2']);
      expect((await t.kHop('b', MAX, { labels: ['likes', 'knows', 'lives_in'] })).hops).toEqual([
        'c@1',
        'e@1',
        'a@2',
        'd@2',
      ]);
    });

    it('cuts k-hop at limit in depth-then-id order and says so', async () => {
      expect(await t.kHop('a', 2, { direction: 'both' }, 2)).toMatchObject({
        hops: ['b@1', 'c@1'],
        truncated: true,
      });
      expect(await t.kHop('a', 2, { direction: 'both' }, 4)).toMatchObject({
        hops: ['b@1', 'c@1', 'e@1', 'd@2'],
        truncated: false,
      });
    });

    it('finds a shortest path with its edges', async () => {
      const ac = await t.shortestPath('a', 'c');
      expect(ac.found).toBe(true);
      expect(ac.vertexIds).toEqual(['a', 'b', 'c']);
      expect(ac.edgeIds).toHaveLength(2);
      expect(['k1', 'k2']).toContain(ac.edgeIds[0]);
      expect(ac.edgeIds[1]).toBe('k3');
      const ad = await t.shortestPath('a', 'd');
      expect(ad.vertexIds).toEqual(['a', 'b', 'c', 'd']);
      expect(ad.edgeIds.slice(1)).toEqual(['k3', 'l1']);
      expect(await t.shortestPath('d', 'a', { direction: 'in' })).toEqual({
        found: true,
        vertexIds: ['d', 'c', 'b', 'a'],
        edgeIds: ['l1', 'k3', expect.stringMatching(/^k[12]$/)],
      });
      expect(await t.shortestPath('d', 'a', { direction: 'both' })).toEqual({
        found: true,
        vertexIds: ['d', 'c', 'a'],
        edgeIds: ['l1', 'k4'],
      });
      expect(await t.shortestPath('b', 'e', { labels: ['likes'] })).toEqual({
        found: true,
        vertexIds: ['b', 'e'],
        edgeIds: ['lk1'],
      });
    });

    it('answers a path of one vertex from a vertex to itself', async () => {
      expect(await t.shortestPath('a', 'a')).toEqual({ found: true, vertexIds: ['a'], edgeIds: [] });
    });

    it('answers found=false when no path exists within max_depth, or an end is missing', async () => {
      expect((await t.shortestPath('a', 'd', {}, 2)).found).toBe(false);
      expect((await t.shortestPath('a', 'd', {}, 3)).found).toBe(true);
      expect((await t.shortestPath('d', 'a')).found).toBe(false);
      expect((await t.shortestPath('a', 'z', { direction: 'both' })).found).toBe(false);
      expect((await t.shortestPath('a', 'e', { labels: ['likes'] })).found).toBe(false);
      expect((await t.shortestPath('ghost', 'a')).found).toBe(false);
      expect((await t.shortestPath('a', 'ghost')).found).toBe(false);
      expect(await t.shortestPath('a', 'z')).toEqual({ found: false, vertexIds: [], edgeIds: [] });
    });

    it(`rejects depths beyond max_traversal_depth (${MAX}) with INVALID_ARGUMENT naming it`, async () => {
      expect((await t.kHop('a', MAX)).hops.length).toBeGreaterThan(0);
      const k = await expectCode(() => t.kHop('a', MAX + 1), Code.InvalidArgument);
      expect(k.rawMessage).toContain(`depth ${MAX + 1}`);
      expect(k.rawMessage).toContain(`max_traversal_depth (${MAX})`);
      const s = await expectCode(() => t.shortestPath('a', 'd', {}, MAX + 1), Code.InvalidArgument);
      expect(s.rawMessage).toContain(`max_depth ${MAX + 1}`);
      await expectCode(() => t.kHop('a', MAX_TRAVERSAL_DEPTH_CEILING + 1), Code.InvalidArgument);
      await expectCode(() => t.shortestPath('a', 'd', {}, 1000), Code.InvalidArgument);
      const zero = await expectCode(() => t.kHop('a', 0), Code.InvalidArgument);
      expect(zero.rawMessage).toMatch(/depth/);
    });

    it('rejects bad limits, ids and labels with INVALID_ARGUMENT', async () => {
      const n = await expectCode(() => t.neighbors('a', {}, 10_001), Code.InvalidArgument);
      expect(n.rawMessage).toMatch(/10000/);
      await expectCode(() => t.kHop('a', 2, {}, 10_001), Code.InvalidArgument);
      expect((await t.neighbors('a', {}, 10_000)).ids).toEqual(['b']);
      await expectCode(() => t.neighbors(''), Code.InvalidArgument);
      await expectCode(() => t.kHop('', 1), Code.InvalidArgument);
      await expectCode(() => t.shortestPath('a', ''), Code.InvalidArgument);
      const l = await expectCode(() => t.neighbors('a', { labels: ['no spaces'] }), Code.InvalidArgument);
      expect(l.rawMessage).toMatch(/edges\.labels\[0\]/);
    });

    it("forgets a deleted vertex: it is no longer anyone's neighbour or on any path", async () => {
      const ns = `${namespace}-del`;
      const own = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        await loadFixture(own, ns, TRAVERSAL_FIXTURE);
        const ot = graphTraversal(own.get(GraphTraversal)!, ns);
        await graphBasicOf(own).deleteVertex(
          create(DeleteVertexRequestSchema, { namespace: ns, id: 'b' }),
          ctx,
        );
        expect((await ot.neighbors('a', { direction: 'both' })).ids).toEqual(['c', 'e']);
        expect((await ot.neighbors('e', { direction: 'in' })).ids).toEqual(['e']);
        expect((await ot.kHop('a', MAX)).hops).toEqual([]);
        expect((await ot.shortestPath('a', 'c')).found).toBe(false);
        expect((await ot.shortestPath('a', 'c', { direction: 'both' })).vertexIds).toEqual(['a', 'c']);
      } finally {
        await own.close();
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const ot = graphTraversal(other.get(GraphTraversal)!, ns);
        expect((await ot.neighbors('a', { direction: 'both' })).ids).toEqual([]);
        await loadFixture(other, ns, {
          vertices: [
            ['a', 'person'],
            ['q', 'person'],
          ],
          edges: [['x1', 'knows', 'a', 'q']],
        });
        expect((await ot.neighbors('a')).ids).toEqual(['q']);
        expect((await ot.kHop('a', MAX, { direction: 'both' })).hops).toEqual(['q@1']);
        expect((await t.neighbors('a')).ids).toEqual(['b']);
        expect((await t.shortestPath('a', 'q', { direction: 'both' })).found).toBe(false);
      } finally {
        await other.close();
      }
    });
  });
}
