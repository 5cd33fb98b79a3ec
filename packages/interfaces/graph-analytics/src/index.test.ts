import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  type AnalyticsSource,
  analyticsImpl,
  ConnectedComponentsRequestSchema,
  connectedComponents,
  DegreeRequestSchema,
  GraphAnalytics,
  PageRankRequestSchema,
  pageRank,
  type Subgraph,
  subgraphTooLarge,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const edges = (...pairs: string[]) =>
  pairs.map((p) => {
    const [from, to] = p.split('>');
    return { from: from!, to: to! };
  });
const ctx = { signal: new AbortController().signal };

describe('connectedComponents', () => {
  it('ignores direction, sorts members, orders largest first then by first id', () => {
    const sub = { vertexIds: ['z', 'c', 'b', 'a', 'y', 'x', 'q'], edges: edges('b>a', 'c>b', 'y>x', 'q>q') };
    expect(connectedComponents(sub)).toEqual([['a', 'b', 'c'], ['x', 'y'], ['q'], ['z']]);
  });
  it('ignores edges leaving the subgraph and handles the empty one', () => {
    expect(connectedComponents({ vertexIds: ['a', 'b'], edges: edges('a>outside', 'outside>b') })).toEqual([
      ['a'],
      ['b'],
    ]);
    expect(connectedComponents({ vertexIds: [], edges: [] })).toEqual([]);
  });
  it('merges long chains in any edge order', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `v${String(i).padStart(3, '0')}`);
    const chain = ids
      .slice(1)
      .map((id, i) => ({ from: id, to: ids[i]! }))
      .reverse();
    expect(connectedComponents({ vertexIds: [...ids].reverse(), edges: chain })).toEqual([ids]);
  });
});

describe('pageRank', () => {
  it('matches hand-computed values with a dangling vertex', () => {
    // p1→p2, p1→p3, p2→p3; one iteration: 13/90, 103/360, 205/360.
    const sub = { vertexIds: ['p1', 'p2', 'p3'], edges: edges('p1>p2', 'p1>p3', 'p2>p3') };
    const one = pageRank(sub, 0.85, 1);
    expect(one.map((s) => s.vertexId)).toEqual(['p3', 'p2', 'p1']);
    [205 / 360, 103 / 360, 52 / 360].forEach((want, i) => {
      expect(Math.abs(one[i]!.score - want)).toBeLessThan(1e-12);
    });
  });
  it('counts parallel edges and self-loops as edges', () => {
    // a→b twice, a→c once: b gets 2/3 of a's share; c→c keeps c's rank at c.
    const sub = { vertexIds: ['a', 'b', 'c'], edges: edges('a>b', 'a>b', 'a>c', 'c>c', 'b>a') };
    const r = Object.fromEntries(pageRank(sub, 0.5, 1).map((s) => [s.vertexId, s.score]));
    const third = 1 / 3;
    expect(r.a).toBeCloseTo(0.5 / 3 + 0.5 * third, 12);
    expect(r.b).toBeCloseTo(0.5 / 3 + 0.5 * third * (2 / 3), 12);
    expect(r.c).toBeCloseTo(0.5 / 3 + 0.5 * (third / 3 + third), 12);
  });
  it('sums to 1, converges on a cycle to equal ranks ordered by id, and is order-independent', () => {
    const cycle = { vertexIds: ['c', 'a', 'b'], edges: edges('b>c', 'a>b', 'c>a') };
    const r = pageRank(cycle, 0.85, 50);
    expect(r.map((s) => s.vertexId)).toEqual(['a', 'b', 'c']);
    for (const s of r) expect(s.score).toBeCloseTo(1 / 3, 12);
    const sub = { vertexIds: ['a', 'b', 'c', 'd'], edges: edges('a>b', 'b>c', 'c>a', 'a>d') };
    const x = pageRank(sub, 0.85, 20);
    const y = pageRank(
      { vertexIds: [...sub.vertexIds].reverse(), edges: [...sub.edges].reverse() },
      0.85,
      20,
    );
    expect(x).toEqual(y);
    expect(Math.abs(x.reduce((s, v) => s + v.score, 0) - 1)).toBeLessThan(1e-12);
  });
  it('answers nothing for an empty subgraph', () => {
    expect(pageRank({ vertexIds: [], edges: [] })).toEqual([]);
  });
});

describe('GraphAnalytics validators', () => {
  const v = GraphAnalytics.validate;
  const l = DEFAULT_LIMITS;
  const sub = (s: Partial<Subgraph>) => ({ seedIds: ['a'], depth: 1, maxVertices: 0, ...s });
  it('checks degree ids (1..1000) and the filter', () => {
    expect(errorOf(() => v.degree?.(create(DegreeRequestSchema, { vertexIds: ['a'] }), l))).toBeUndefined();
    expect(errorOf(() => v.degree?.(create(DegreeRequestSchema, {}), l))?.rawMessage).toMatch(/vertex_ids/);
    const many = Array.from({ length: 1001 }, (_, i) => `${i}`);
    expect(
      errorOf(() => v.degree?.(create(DegreeRequestSchema, { vertexIds: many }), l))?.rawMessage,
    ).toMatch(/1000/);
    const bad = create(DegreeRequestSchema, { vertexIds: ['a'], edges: { labels: ['x y'] } });
    expect(errorOf(() => v.degree?.(bad, l))?.rawMessage).toMatch(/edges\.labels\[0\]/);
  });
  it('checks subgraphs: seeds, depth ≤ 32, max_vertices ≤ 100000', () => {
    const cc = (s: Partial<Subgraph>) => create(ConnectedComponentsRequestSchema, { subgraph: sub(s) });
    expect(
      errorOf(() => v.connectedComponents?.(cc({ depth: 32, maxVertices: 100_000 }), l)),
    ).toBeUndefined();
    expect(
      errorOf(() => v.connectedComponents?.(create(ConnectedComponentsRequestSchema, {}), l))?.rawMessage,
    ).toMatch(/subgraph is required/);
    expect(errorOf(() => v.connectedComponents?.(cc({ seedIds: [] }), l))?.rawMessage).toMatch(/seed_ids/);
    expect(errorOf(() => v.connectedComponents?.(cc({ depth: 33 }), l))?.rawMessage).toMatch(
      /subgraph\.depth 33/,
    );
    expect(errorOf(() => v.connectedComponents?.(cc({ maxVertices: 100_001 }), l))?.rawMessage).toMatch(
      /max_vertices/,
    );
  });
  it('checks damping in (0, 1) or 0, and iterations ≤ 100', () => {
    const pr = (damping: number, iterations = 0) =>
      create(PageRankRequestSchema, { subgraph: sub({}), damping, iterations });
    for (const d of [0, 0.01, 0.5, 0.99]) expect(errorOf(() => v.pageRank?.(pr(d), l))).toBeUndefined();
    for (const d of [1, -0.5, 2, Number.NaN, Number.POSITIVE_INFINITY])
      expect(errorOf(() => v.pageRank?.(pr(d), l))?.rawMessage).toMatch(/damping/);
    expect(errorOf(() => v.pageRank?.(pr(0, 100), l))).toBeUndefined();
    expect(errorOf(() => v.pageRank?.(pr(0, 101), l))?.rawMessage).toMatch(/iterations is 101/);
  });
});

describe('analyticsImpl', () => {
  const calls: { sub: Subgraph; maxVertices: number }[] = [];
  const source: AnalyticsSource = {
    async degree(_ns, ids) {
      return ids.map((id) => id.length);
    },
    async subgraph(_ns, sub, maxVertices) {
      calls.push({ sub, maxVertices });
      if (maxVertices < 2) throw subgraphTooLarge(maxVertices);
      return { vertexIds: ['a', 'b'], edges: edges('a>b') };
    },
  };
  const impl = analyticsImpl(source, { maxTraversalDepth: 3 });
  const subgraph = (depth: number, maxVertices = 0) => ({ seedIds: ['a'], depth, maxVertices });

  it('answers degrees in request order as uint64', async () => {
    const res = await impl.degree(create(DegreeRequestSchema, { vertexIds: ['abc', 'a'] }), ctx);
    expect(res.degrees).toEqual([
      { vertexId: 'abc', degree: 3n },
      { vertexId: 'a', degree: 1n },
    ]);
  });
  it('passes max_vertices (0 = 10000) and enforces the namespace depth', async () => {
    const cc = await impl.connectedComponents(
      create(ConnectedComponentsRequestSchema, { subgraph: subgraph(3) }),
      ctx,
    );
    expect(cc.components).toEqual([{ vertexIds: ['a', 'b'] }]);
    expect(calls.at(-1)?.maxVertices).toBe(10_000);
    const err = await Promise.resolve(
      impl.connectedComponents(create(ConnectedComponentsRequestSchema, { subgraph: subgraph(4) }), ctx),
    ).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).rawMessage).toBe(
      "subgraph.depth 4 exceeds this namespace's max_traversal_depth (3)",
    );
  });
  it('defaults damping and iterations, and surfaces the max_vertices error', async () => {
    const pr = await impl.pageRank(create(PageRankRequestSchema, { subgraph: subgraph(1) }), ctx);
    expect(pr.scores).toEqual(pageRank({ vertexIds: ['a', 'b'], edges: edges('a>b') }, 0.85, 20));
    const err = await Promise.resolve(
      impl.pageRank(create(PageRankRequestSchema, { subgraph: subgraph(1, 1) }), ctx),
    ).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toMatch(/more than max_vertices \(1\)/);
  });
});
