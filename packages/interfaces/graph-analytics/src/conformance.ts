import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_TRAVERSAL_DEPTH, MAX_TRAVERSAL_DEPTH_CEILING } from '@prism/graph-traversal';
import {
  edgeFilter,
  type Fixture,
  type Follow,
  loadFixture,
  TRAVERSAL_FIXTURE,
} from '@prism/graph-traversal/conformance';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  ConnectedComponentsRequestSchema,
  DegreeRequestSchema,
  GraphAnalytics,
  type GraphAnalyticsImpl,
  PageRankRequestSchema,
} from './index.js';

// The suite runs with the default max_traversal_depth.
const MAX = DEFAULT_MAX_TRAVERSAL_DEPTH;
const ctx = { signal: new AbortController().signal };

export type { Follow };

/** A subgraph as the suite writes it. */
export interface Sub {
  seeds: string[];
  depth: number;
  follow?: Follow;
  maxVertices?: number;
}
const subgraph = (s: Sub) => ({
  seedIds: s.seeds,
  depth: s.depth,
  edges: edgeFilter(s.follow),
  maxVertices: s.maxVertices ?? 0,
});

/** Small typed client over a graph_analytics implementation. */
export function graphAnalytics(impl: GraphAnalyticsImpl, namespace: string) {
  return {
    degree: async (vertexIds: string[], follow?: Follow) =>
      (
        (
          await impl.degree(
            create(DegreeRequestSchema, { namespace, vertexIds, edges: edgeFilter(follow) }),
            ctx,
          )
        ).degrees ?? []
      ).map((d) => [d.vertexId ?? '', Number(d.degree ?? 0)] as const),
    components: async (s: Sub) =>
      (
        (
          await impl.connectedComponents(
            create(ConnectedComponentsRequestSchema, { namespace, subgraph: subgraph(s) }),
            ctx,
          )
        ).components ?? []
      ).map((c) => c.vertexIds ?? []),
    pageRank: async (s: Sub, damping = 0, iterations = 0) =>
      (
        (
          await impl.pageRank(
            create(PageRankRequestSchema, { namespace, subgraph: subgraph(s), damping, iterations }),
            ctx,
          )
        ).scores ?? []
      ).map((v) => ({ id: v.vertexId ?? '', score: v.score ?? 0 })),
  };
}

// The traversal suite's graph (a knows-cycle a→b→c→a with a parallel a→b, c lives_in d, a self-loop on e,
// e→a, b likes e, an isolated z) plus three linked pages for PageRank: p1→p2, p1→p3, p2→p3.
const FIXTURE: Fixture = {
  vertices: [...TRAVERSAL_FIXTURE.vertices, ['p1', 'page'], ['p2', 'page'], ['p3', 'page']],
  edges: [
    ...TRAVERSAL_FIXTURE.edges,
    ['pl1', 'links', 'p1', 'p2'],
    ['pl2', 'links', 'p1', 'p3'],
    ['pl3', 'links', 'p2', 'p3'],
  ],
};

/**
 * The graph_analytics conformance suite: degree (self-loops, parallel edges, labels), weakly connected
 * components and their order, PageRank against hand-computed values, subgraph bounds (max_vertices, the
 * default max_traversal_depth) and namespace isolation.
 */
export function describeGraphAnalyticsConformance(label: string, factory: PluginFactory): void {
  describe(`graph_analytics conformance: ${label}`, () => {
    let handle: PluginHandle;
    let an: ReturnType<typeof graphAnalytics>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(GraphAnalytics);
      if (!impl) throw new Error(`${label} does not implement graph_analytics`);
      an = graphAnalytics(impl, namespace);
      await loadFixture(handle, namespace, FIXTURE);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('counts degrees in request order, parallel edges each, 0 for a missing vertex', async () => {
      expect(await an.degree(['a', 'ghost', 'b', 'z'])).toEqual([
        ['a', 2],
        ['ghost', 0],
        ['b', 2],
        ['z', 0],
      ]);
      expect(await an.degree(['a'], { direction: 'in' })).toEqual([['a', 2]]);
      expect(await an.degree(['a'], { direction: 'both' })).toEqual([['a', 4]]);
      expect(await an.degree(['a', 'a'], { direction: 'both' })).toEqual([
        ['a', 4],
        ['a', 4],
      ]);
    });

    it('counts a self-loop once per direction it matches', async () => {
      expect(await an.degree(['e'])).toEqual([['e', 2]]);
      expect(await an.degree(['e'], { direction: 'in' })).toEqual([['e', 2]]);
      expect(await an.degree(['e'], { direction: 'both' })).toEqual([['e', 4]]);
      expect(await an.degree(['e'], { direction: 'both', labels: ['likes'] })).toEqual([['e', 1]]);
    });

    it('counts only edges with the given labels', async () => {
      expect(await an.degree(['c'], { labels: ['lives_in'] })).toEqual([['c', 1]]);
      expect(await an.degree(['c'], { labels: ['knows'] })).toEqual([['c', 1]]);
      expect(await an.degree(['c'], { direction: 'both', labels: ['knows', 'lives_in'] })).toEqual([
        ['c', 3],
      ]);
      expect(await an.degree(['b'], { direction: 'both', labels: ['nope'] })).toEqual([['b', 0]]);
    });

    it('finds weakly connected components, each sorted, largest first, ties by first id', async () => {
      expect(await an.components({ seeds: ['a'], depth: MAX, follow: { direction: 'both' } })).toEqual([
        ['a', 'b', 'c', 'd', 'e'],
      ]);
      // Depth 0 keeps only the seeds and the edges among them; direction is ignored for components.
      expect(await an.components({ seeds: ['z', 'd', 'b', 'a'], depth: 0 })).toEqual([
        ['a', 'b'],
        ['d'],
        ['z'],
      ]);
      expect(
        await an.components({ seeds: ['a', 'b', 'c', 'd'], depth: 0, follow: { labels: ['lives_in'] } }),
      ).toEqual([['c', 'd'], ['a'], ['b']]);
      // Two components of three: the one with the smaller first id comes first.
      expect(await an.components({ seeds: ['p3', 'z', 'a'], depth: 1, follow: { direction: 'in' } })).toEqual(
        [['a', 'c', 'e'], ['p1', 'p2', 'p3'], ['z']],
      );
    });

    it('ignores missing seeds and answers nothing when none exists', async () => {
      expect(await an.components({ seeds: ['ghost', 'z'], depth: 2 })).toEqual([['z']]);
      expect(await an.components({ seeds: ['ghost'], depth: 2 })).toEqual([]);
      expect(await an.pageRank({ seeds: ['ghost'], depth: 2 })).toEqual([]);
    });

    it('computes PageRank as the proto defines it (hand-computed, 2 iterations)', async () => {
      // N = 3, r0 = 1/3, d = 0.85; p3 has no out-edges, so its rank spreads over all three.
      // Iteration 1: base = 0.15/3 + 0.85·(1/3)/3 = 13/90; p1 = 52/360, p2 = 103/360, p3 = 205/360.
      // Iteration 2: base = 0.05 + 0.85·(205/360)/3; p2 = base + 0.85·(52/360)/2; p3 = base + 0.85·(26+103)/360.
      const base = 0.05 + (0.85 * (205 / 360)) / 3;
      const want = [
        { id: 'p3', score: base + (0.85 * 129) / 360 },
        { id: 'p2', score: base + (0.85 * 26) / 360 },
        { id: 'p1', score: base },
      ];
      const got = await an.pageRank({ seeds: ['p1'], depth: 2, follow: { labels: ['links'] } }, 0.85, 2);
      expect(got.map((s) => s.id)).toEqual(want.map((s) => s.id));
      got.forEach((s, i) => {
        expect(Math.abs(s.score - want[i]!.score)).toBeLessThan(1e-9);
      });
      // One iteration: 13/90, 103/360, 205/360.
      const one = await an.pageRank({ seeds: ['p1'], depth: 2 }, 0.85, 1);
      expect(one.map((s) => s.id)).toEqual(['p3', 'p2', 'p1']);
      [205 / 360, 103 / 360, 52 / 360].forEach((want1, i) => {
        expect(Math.abs(one[i]!.score - want1)).toBeLessThan(1e-9);
      });
    });

    it('uses damping 0.85 and 20 iterations by default, with ranks summing to 1', async () => {
      const dflt = await an.pageRank({ seeds: ['p1'], depth: 2 });
      const explicit = await an.pageRank({ seeds: ['p1'], depth: 2 }, 0.85, 20);
      expect(dflt).toEqual(explicit);
      expect(Math.abs(dflt.reduce((s, v) => s + v.score, 0) - 1)).toBeLessThan(1e-9);
      const other = await an.pageRank({ seeds: ['p1'], depth: 2 }, 0.5, 20);
      expect(other[0]!.score).not.toBeCloseTo(dflt[0]!.score, 6);
    });

    it('counts parallel edges and self-loops in PageRank, and orders ties by id', async () => {
      // a→b twice, b→c, c→a: b gets all of a's rank; the self-loop on e keeps part of e's rank at e.
      const all = await an.pageRank({ seeds: ['a'], depth: MAX, follow: { direction: 'both' } }, 0.85, 30);
      expect(all.map((s) => s.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(Math.abs(all.reduce((s, v) => s + v.score, 0) - 1)).toBeLessThan(1e-9);
      for (let i = 1; i < all.length; i++) expect(all[i - 1]!.score).toBeGreaterThanOrEqual(all[i]!.score);
      const ties = await an.pageRank({ seeds: ['z', 'd'], depth: 0 });
      expect(ties.map((s) => s.id)).toEqual(['d', 'z']);
      for (const s of ties) expect(Math.abs(s.score - 0.5)).toBeLessThan(1e-9);
    });

    it('rejects a subgraph beyond max_vertices with INVALID_ARGUMENT naming it', async () => {
      const sub = { seeds: ['a'], depth: MAX, follow: { direction: 'both' as const }, maxVertices: 4 };
      const err = await expectCode(() => an.components(sub), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/max_vertices \(4\)/);
      await expectCode(() => an.pageRank(sub), Code.InvalidArgument);
      expect(await an.components({ ...sub, maxVertices: 5 })).toEqual([['a', 'b', 'c', 'd', 'e']]);
      await expectCode(() => an.components({ ...sub, maxVertices: 100_001 }), Code.InvalidArgument);
    });

    it(`rejects depth beyond max_traversal_depth (${MAX}) and bad parameters with INVALID_ARGUMENT`, async () => {
      expect(await an.components({ seeds: ['z'], depth: MAX })).toEqual([['z']]);
      const deep = await expectCode(
        () => an.components({ seeds: ['a'], depth: MAX + 1 }),
        Code.InvalidArgument,
      );
      expect(deep.rawMessage).toContain(`max_traversal_depth (${MAX})`);
      await expectCode(() => an.pageRank({ seeds: ['a'], depth: MAX + 1 }), Code.InvalidArgument);
      await expectCode(
        () => an.components({ seeds: ['a'], depth: MAX_TRAVERSAL_DEPTH_CEILING + 1 }),
        Code.InvalidArgument,
      );
      await expectCode(() => an.components({ seeds: [], depth: 1 }), Code.InvalidArgument);
      const many = Array.from({ length: 1001 }, (_, i) => `v${i}`);
      await expectCode(() => an.components({ seeds: many, depth: 0 }), Code.InvalidArgument);
      await expectCode(() => an.degree([]), Code.InvalidArgument);
      await expectCode(() => an.degree(many), Code.InvalidArgument);
      await expectCode(() => an.degree(['']), Code.InvalidArgument);
      await expectCode(() => an.degree(['a'], { labels: ['bad label'] }), Code.InvalidArgument);
      for (const damping of [1, 1.5, -0.1, Number.NaN]) {
        const err = await expectCode(
          () => an.pageRank({ seeds: ['a'], depth: 1 }, damping),
          Code.InvalidArgument,
        );
        expect(err.rawMessage).toMatch(/damping/);
      }
      const it = await expectCode(
        () => an.pageRank({ seeds: ['a'], depth: 1 }, 0.85, 101),
        Code.InvalidArgument,
      );
      expect(it.rawMessage).toMatch(/iterations/);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const oa = graphAnalytics(other.get(GraphAnalytics)!, ns);
        expect(await oa.degree(['a'], { direction: 'both' })).toEqual([['a', 0]]);
        expect(await oa.components({ seeds: ['a'], depth: MAX })).toEqual([]);
        await loadFixture(other, ns, {
          vertices: [
            ['a', 'x'],
            ['y', 'x'],
          ],
          edges: [['ay', 'r', 'a', 'y']],
        });
        expect(await oa.components({ seeds: ['a'], depth: MAX })).toEqual([['a', 'y']]);
        expect(await an.degree(['a'], { direction: 'both' })).toEqual([['a', 4]]);
      } finally {
        await other.close();
      }
    });
  });
}
