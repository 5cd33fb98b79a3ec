import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  checkDepth,
  checkEdgeFilter,
  Direction,
  directionOf,
  EdgeFilterSchema,
  effectiveLimit,
  GraphTraversal,
  KHopRequestSchema,
  NeighborsRequestSchema,
  ShortestPathRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('helpers', () => {
  it('checkDepth names the depth and the namespace limit', () => {
    expect(errorOf(() => checkDepth(6, 6))).toBeUndefined();
    const err = errorOf(() => checkDepth(12, 6));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toBe("depth 12 exceeds this namespace's max_traversal_depth (6)");
    expect(errorOf(() => checkDepth(7, 6, 'max_depth'))?.rawMessage).toMatch(/^max_depth 7/);
  });
  it('treats an unspecified direction as out', () => {
    expect(directionOf(undefined)).toBe(Direction.OUT);
    expect(directionOf(create(EdgeFilterSchema, {}))).toBe(Direction.OUT);
    expect(directionOf(create(EdgeFilterSchema, { direction: Direction.BOTH }))).toBe(Direction.BOTH);
    expect(directionOf(create(EdgeFilterSchema, { direction: Direction.IN }))).toBe(Direction.IN);
  });
  it('defaults limit 0 to 1000', () => {
    expect(effectiveLimit(0)).toBe(1000);
    expect(effectiveLimit(5)).toBe(5);
  });
  it('checks edge filters', () => {
    expect(
      errorOf(() => checkEdgeFilter(create(EdgeFilterSchema, { labels: ['knows', 'lives_in'] }))),
    ).toBeUndefined();
    expect(
      errorOf(() => checkEdgeFilter(create(EdgeFilterSchema, { labels: ['ok', 'no way'] })))?.rawMessage,
    ).toMatch(/edges\.labels\[1\]/);
    expect(
      errorOf(() => checkEdgeFilter(create(EdgeFilterSchema, { direction: 9 as Direction })))?.rawMessage,
    ).toMatch(/direction/);
    const many = Array.from({ length: 65 }, (_, i) => `l${i}`);
    expect(errorOf(() => checkEdgeFilter(create(EdgeFilterSchema, { labels: many })))?.code).toBe(
      Code.InvalidArgument,
    );
  });
});

describe('GraphTraversal validators', () => {
  const v = GraphTraversal.validate;
  const l = DEFAULT_LIMITS;
  it('checks neighbours: id, filter, limit ≤ 10000', () => {
    expect(
      errorOf(() => v.neighbors?.(create(NeighborsRequestSchema, { vertexId: 'a', limit: 10_000 }), l)),
    ).toBeUndefined();
    expect(
      errorOf(() => v.neighbors?.(create(NeighborsRequestSchema, { vertexId: 'a', limit: 10_001 }), l))
        ?.rawMessage,
    ).toMatch(/limit is 10001; at most 10000/);
    expect(
      errorOf(() => v.neighbors?.(create(NeighborsRequestSchema, { vertexId: '' }), l))?.rawMessage,
    ).toMatch(/vertex_id/);
  });
  it("checks k-hop depth: at least 1, at most 32 (the namespace limit is the adapter's)", () => {
    const k = (depth: number) => create(KHopRequestSchema, { startId: 'a', depth });
    expect(errorOf(() => v.kHop?.(k(0), l))?.rawMessage).toMatch(/at least 1/);
    expect(errorOf(() => v.kHop?.(k(1), l))).toBeUndefined();
    expect(errorOf(() => v.kHop?.(k(32), l))).toBeUndefined();
    expect(errorOf(() => v.kHop?.(k(33), l))?.rawMessage).toMatch(
      /depth 33 exceeds the highest traversal depth \(32\)/,
    );
  });
  it('checks shortest path: both ids, max_depth 0..32', () => {
    const s = (maxDepth: number, toId = 'b') =>
      create(ShortestPathRequestSchema, { fromId: 'a', toId, maxDepth });
    expect(errorOf(() => v.shortestPath?.(s(0), l))).toBeUndefined();
    expect(errorOf(() => v.shortestPath?.(s(33), l))?.rawMessage).toMatch(/max_depth 33/);
    expect(errorOf(() => v.shortestPath?.(s(1, ''), l))?.rawMessage).toMatch(/to_id/);
  });
  it('declares reads', () => {
    expect(GraphTraversal.name).toBe('graph_traversal');
    expect(Object.values(GraphTraversal.access)).toEqual(['read', 'read', 'read']);
  });
});
