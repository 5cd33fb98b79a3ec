/// <reference path="./gremlin-driver.d.ts" />
import type { AnalyticsSource, FetchedSubgraph } from '@prism/graph-analytics';
import { subgraphTooLarge } from '@prism/graph-analytics';
import {
  checkDepth,
  Direction,
  directionOf,
  type EdgeFilter,
  effectiveLimit,
  type GraphTraversalImpl,
} from '@prism/graph-traversal';
import { invalidArgument } from '@prism/sdk';
import gremlin, { type GraphTraversal } from 'gremlin';
import type { GremlinConnection } from './connection.js';
import { clientId, elementId, vertexOf } from './values.js';

const { process: gp } = gremlin;
const { P, t, order } = gp;

/** One step along `filter` from the current vertices (out by default), to the vertices. */
function step(tr: GraphTraversal, filter: EdgeFilter | undefined): GraphTraversal {
  const labels = filter?.labels ?? [];
  switch (directionOf(filter)) {
    case Direction.IN:
      return tr.in_(...labels);
    case Direction.BOTH:
      return tr.both(...labels);
    default:
      return tr.out(...labels);
  }
}

/** The edges along `filter` from the current vertices. */
function edgesOf(tr: GraphTraversal, filter: EdgeFilter | undefined): GraphTraversal {
  const labels = filter?.labels ?? [];
  switch (directionOf(filter)) {
    case Direction.IN:
      return tr.inE(...labels);
    case Direction.BOTH:
      return tr.bothE(...labels);
    default:
      return tr.outE(...labels);
  }
}

// Element ids share the `<partition>/` prefix, so the server's order by element id is the client-id order.
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Options of the traversal and analytics implementations. */
export interface TraversalOptions {
  readonly maxTraversalDepth: number;
  /** Most vertices a shortest-path search may visit. */
  readonly maxVisited: number;
}

/** Graph walks on a Gremlin server: level-by-level on the server, so every depth is bounded and exact. */
export class GremlinWalks {
  constructor(
    private readonly conn: GremlinConnection,
    private readonly partition: string,
    private readonly opts: TraversalOptions,
  ) {}

  private eid = (id: string) => elementId(this.partition, id);
  private cid = (eid: unknown) => clientId(this.partition, eid);

  /** Whole vertices by client id, keyed by it. */
  private async vertices(ids: readonly string[]) {
    if (ids.length === 0) return new Map<string, ReturnType<typeof vertexOf>>();
    const raw = await this.conn.traverse((g) =>
      g
        .V(...ids.map(this.eid))
        .elementMap()
        .toList(),
    );
    return new Map(raw.map((r) => vertexOf(r, this.partition)).map((v) => [v.id, v]));
  }

  /**
   * The next BFS level: the distinct vertices one step from `frontier` that are not in `seen`, smallest ids
   * first, at most `cap` of them (null cap: all). `complete` is false when the cap cut the level.
   */
  private async level(
    frontier: readonly string[],
    filter: EdgeFilter | undefined,
    seen: ReadonlySet<string>,
    cap: number | null,
  ): Promise<{ ids: string[]; complete: boolean }> {
    if (frontier.length === 0) return { ids: [], complete: true };
    // Fetch enough sorted ids that `cap` unseen ones remain even if every seen vertex is among them.
    const fetch = cap === null ? null : cap + seen.size;
    const raw = await this.conn.traverse((g) => {
      let q = step(g.V(...frontier.map(this.eid)), filter)
        .dedup()
        .order()
        .by(t.id, order.asc);
      if (fetch !== null) q = q.limit(fetch);
      return q.id().toList();
    });
    const ids = raw.map(this.cid).filter((id) => !seen.has(id));
    if (cap !== null && ids.length > cap) return { ids: ids.slice(0, cap), complete: false };
    return { ids, complete: fetch === null || raw.length < fetch };
  }

  impl(): GraphTraversalImpl {
    return {
      neighbors: async (req) => {
        const limit = effectiveLimit(req.limit);
        const raw = await this.conn.traverse((g) =>
          step(g.V(this.eid(req.vertexId)), req.edges)
            .dedup()
            .order()
            .by(t.id, order.asc)
            .limit(limit + 1)
            .elementMap()
            .toList(),
        );
        const vertices = raw.map((r) => vertexOf(r, this.partition)).sort((a, b) => byId(a.id, b.id));
        return { vertices: vertices.slice(0, limit), truncated: vertices.length > limit };
      },

      kHop: async (req) => {
        checkDepth(req.depth, this.opts.maxTraversalDepth);
        const limit = effectiveLimit(req.limit);
        // A missing start needs no round trip of its own: its first level is empty.
        const seen = new Set([req.startId]);
        const hops: { id: string; depth: number }[] = [];
        let frontier = [req.startId];
        let truncated = false;
        for (let depth = 1; depth <= req.depth && frontier.length > 0; depth++) {
          const { ids, complete } = await this.level(frontier, req.edges, seen, limit - hops.length + 1);
          for (const id of ids) {
            seen.add(id);
            hops.push({ id, depth });
          }
          if (hops.length > limit || !complete) {
            truncated = true;
            break;
          }
          frontier = ids;
        }
        const kept = hops.slice(0, limit);
        const vertices = await this.vertices(kept.map((h) => h.id));
        return {
          vertices: kept.flatMap((h) => {
            const vertex = vertices.get(h.id);
            return vertex ? [{ vertex, depth: h.depth }] : [];
          }),
          truncated: truncated || hops.length > limit,
        };
      },

      shortestPath: async (req) => {
        const max = req.maxDepth === 0 ? this.opts.maxTraversalDepth : req.maxDepth;
        checkDepth(max, this.opts.maxTraversalDepth, 'max_depth');
        const ends = await this.conn.traverse((g) =>
          g.V(this.eid(req.fromId), this.eid(req.toId)).id().toList(),
        );
        const present = new Set(ends.map(this.cid));
        if (!present.has(req.fromId) || !present.has(req.toId))
          return { found: false, vertexIds: [], edgeIds: [] };
        if (req.fromId === req.toId) return { found: true, vertexIds: [req.fromId], edgeIds: [] };
        // BFS over edges, remembering how each vertex was first reached (vertices visited once).
        const parent = new Map<string, { from: string; edge: string }>();
        const seen = new Set([req.fromId]);
        let frontier = [req.fromId];
        for (let depth = 1; depth <= max && frontier.length > 0; depth++) {
          const rows = await this.conn.traverse((g) =>
            edgesOf(g.V(...frontier.map(this.eid)).as('v'), req.edges)
              .as('e')
              .otherV()
              .as('o')
              .select('v', 'e', 'o')
              .by(t.id)
              .toList(),
          );
          // Deterministic: smallest (from, edge) first reaches a vertex.
          const steps = rows
            .map((r) => {
              const m = r as Map<string, unknown>;
              return { v: this.cid(m.get('v')), e: this.cid(m.get('e')), o: this.cid(m.get('o')) };
            })
            .sort((a, b) => byId(a.v, b.v) || byId(a.e, b.e));
          const next: string[] = [];
          for (const s of steps) {
            if (seen.has(s.o)) continue;
            seen.add(s.o);
            parent.set(s.o, { from: s.v, edge: s.e });
            next.push(s.o);
            if (s.o === req.toId) {
              const vertexIds = [req.toId];
              const edgeIds: string[] = [];
              for (let at = req.toId; at !== req.fromId; ) {
                const p = parent.get(at)!;
                edgeIds.unshift(p.edge);
                vertexIds.unshift(p.from);
                at = p.from;
              }
              return { found: true, vertexIds, edgeIds };
            }
          }
          if (seen.size > this.opts.maxVisited)
            throw invalidArgument(
              `shortest path search visited more than ${this.opts.maxVisited} vertices (max_visited_vertices); ` +
                'narrow edges.labels or max_depth',
            );
          frontier = next.sort(byId);
        }
        return { found: false, vertexIds: [], edgeIds: [] };
      },
    };
  }

  /** Degree and subgraph fetch for the contract's analyticsImpl. */
  analytics(): AnalyticsSource {
    return {
      degree: async (_namespace, ids, edges) => {
        const raw = await this.conn.traverse((g) =>
          g
            .V(...ids.map(this.eid))
            .project('id', 'd')
            .by(t.id)
            .by(countEdges(edges))
            .toList(),
        );
        const counts = new Map<string, number>();
        for (const r of raw) {
          const m = r as Map<string, unknown>;
          counts.set(this.cid(m.get('id')), Number(m.get('d')));
        }
        return ids.map((id) => counts.get(id) ?? 0);
      },

      subgraph: async (_namespace, sub, maxVertices): Promise<FetchedSubgraph> => {
        const seeds = await this.conn.traverse((g) =>
          g
            .V(...[...new Set(sub.seedIds)].map(this.eid))
            .id()
            .toList(),
        );
        const seen = new Set(seeds.map(this.cid));
        if (seen.size > maxVertices) throw subgraphTooLarge(maxVertices);
        let frontier = [...seen];
        for (let depth = 1; depth <= sub.depth && frontier.length > 0; depth++) {
          const { ids } = await this.level(frontier, sub.edges, seen, maxVertices - seen.size + 1);
          for (const id of ids) seen.add(id);
          if (seen.size > maxVertices) throw subgraphTooLarge(maxVertices);
          frontier = ids;
        }
        const vertexIds = [...seen].sort(byId);
        if (vertexIds.length === 0) return { vertexIds, edges: [] };
        const eids = vertexIds.map(this.eid);
        const labels = sub.edges?.labels ?? [];
        const rows = await this.conn.traverse((g) =>
          g
            .V(...eids)
            .outE(...labels)
            .where(gp.statics.inV().hasId(P.within(...eids)))
            .project('f', 't')
            .by(gp.statics.outV().id())
            .by(gp.statics.inV().id())
            .toList(),
        );
        return {
          vertexIds,
          edges: rows.map((r) => {
            const m = r as Map<string, unknown>;
            return { from: this.cid(m.get('f')), to: this.cid(m.get('t')) };
          }),
        };
      },
    };
  }
}

/** An anonymous traversal counting the current vertex's edges along `filter` (a self-loop once per matching direction). */
function countEdges(filter: EdgeFilter | undefined): GraphTraversal {
  const labels = filter?.labels ?? [];
  const a = gp.statics;
  switch (directionOf(filter)) {
    case Direction.IN:
      return a.inE(...labels).count();
    case Direction.BOTH:
      return a.bothE(...labels).count();
    default:
      return a.outE(...labels).count();
  }
}
