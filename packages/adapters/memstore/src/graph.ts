// Graphs of one namespace: vertices and edges by id, with out- and in-adjacency (vertex id → edge ids) so
// every step is a map lookup. Every operation is synchronous, hence atomic. Stored properties are copies,
// so neither requests nor answers alias them.
import {
  analyticsImpl,
  type FetchedSubgraph,
  type GraphAnalyticsImpl,
  subgraphTooLarge,
} from '@prism/graph-analytics';
import {
  type GraphBasicImpl,
  mergeProperties,
  normaliseProperties,
  type Properties,
} from '@prism/graph-basic';
import {
  checkDepth,
  Direction,
  directionOf,
  type EdgeFilter,
  effectiveLimit,
  type GraphTraversalImpl,
} from '@prism/graph-traversal';
import { alreadyExists, failedPrecondition, notFound, unavailable } from '@prism/sdk';

interface StoredVertex {
  readonly id: string;
  readonly label: string;
  properties: Properties;
}
interface StoredEdge {
  readonly id: string;
  readonly label: string;
  readonly fromId: string;
  readonly toId: string;
  properties: Properties;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const vertexOut = (v: StoredVertex) => ({ id: v.id, label: v.label, properties: { ...v.properties } });
const edgeOut = (e: StoredEdge) => ({
  id: e.id,
  label: e.label,
  fromId: e.fromId,
  toId: e.toId,
  properties: { ...e.properties },
});

/** One step from a vertex: the edge followed and the vertex at its other end. */
interface Step {
  readonly edge: StoredEdge;
  readonly other: string;
}

/** The graph of one namespace. */
export class GraphStore {
  private readonly vertices = new Map<string, StoredVertex>();
  private readonly edges = new Map<string, StoredEdge>();
  private readonly out = new Map<string, Set<string>>();
  private readonly in = new Map<string, Set<string>>();
  private closed = false;

  constructor(
    private readonly namespace: string,
    /** The namespace's max_traversal_depth. */
    readonly maxDepth: number,
  ) {}

  close(): void {
    this.closed = true;
    this.vertices.clear();
    this.edges.clear();
    this.out.clear();
    this.in.clear();
  }

  private assertOpen(): void {
    if (this.closed)
      throw unavailable(
        `memstore backend of namespace "${this.namespace}" is closed; the namespace was shut down`,
      );
  }

  vertex(id: string): StoredVertex | undefined {
    this.assertOpen();
    return this.vertices.get(id);
  }

  edge(id: string): StoredEdge | undefined {
    this.assertOpen();
    return this.edges.get(id);
  }

  addVertex(id: string, label: string, properties: Properties): StoredVertex {
    this.assertOpen();
    if (this.vertices.has(id)) throw alreadyExists(`vertex "${id}" already exists`);
    const v = { id, label, properties };
    this.vertices.set(id, v);
    this.out.set(id, new Set());
    this.in.set(id, new Set());
    return v;
  }

  addEdge(e: StoredEdge): StoredEdge {
    this.assertOpen();
    if (this.edges.has(e.id)) throw alreadyExists(`edge "${e.id}" already exists`);
    if (!this.vertices.has(e.fromId)) throw failedPrecondition(`edge.from_id "${e.fromId}" is not a vertex`);
    if (!this.vertices.has(e.toId)) throw failedPrecondition(`edge.to_id "${e.toId}" is not a vertex`);
    this.edges.set(e.id, e);
    this.out.get(e.fromId)!.add(e.id);
    this.in.get(e.toId)!.add(e.id);
    return e;
  }

  deleteEdge(id: string): boolean {
    this.assertOpen();
    const e = this.edges.get(id);
    if (!e) return false;
    this.edges.delete(id);
    this.out.get(e.fromId)?.delete(id);
    this.in.get(e.toId)?.delete(id);
    return true;
  }

  /** Deletes a vertex and its edges; the number of edges removed (a self-loop once). */
  deleteVertex(id: string): { deleted: boolean; deletedEdges: number } {
    this.assertOpen();
    if (!this.vertices.has(id)) return { deleted: false, deletedEdges: 0 };
    const ids = new Set([...this.out.get(id)!, ...this.in.get(id)!]);
    for (const e of ids) this.deleteEdge(e);
    this.vertices.delete(id);
    this.out.delete(id);
    this.in.delete(id);
    return { deleted: true, deletedEdges: ids.size };
  }

  /** The edges a filter follows from `id` (in edge id order), each with the vertex at its other end. */
  steps(id: string, filter: EdgeFilter | undefined): Step[] {
    this.assertOpen();
    const dir = directionOf(filter);
    const labels = filter?.labels.length ? new Set(filter.labels) : undefined;
    const out: Step[] = [];
    const add = (edgeIds: Set<string> | undefined, end: 'toId' | 'fromId') => {
      for (const eid of edgeIds ?? []) {
        const edge = this.edges.get(eid)!;
        if (!labels || labels.has(edge.label)) out.push({ edge, other: edge[end] });
      }
    };
    if (dir !== Direction.IN) add(this.out.get(id), 'toId');
    if (dir !== Direction.OUT) add(this.in.get(id), 'fromId');
    return out.sort((a, b) => byId(a.edge.id, b.edge.id));
  }

  /**
   * Breadth-first from `starts` up to `depth` steps: each reached vertex with its smallest depth, in visit
   * order (missing starts are skipped). Undefined as soon as more than `max` vertices are reached.
   */
  reach(
    starts: readonly string[],
    filter: EdgeFilter | undefined,
    depth: number,
    max = Number.POSITIVE_INFINITY,
  ) {
    const seen = new Map<string, number>();
    let frontier: string[] = [];
    for (const s of starts)
      if (this.vertices.has(s) && !seen.has(s)) {
        seen.set(s, 0);
        frontier.push(s);
      }
    if (seen.size > max) return undefined;
    for (let d = 1; d <= depth && frontier.length > 0; d++) {
      const next: string[] = [];
      for (const v of frontier)
        for (const { other } of this.steps(v, filter))
          if (!seen.has(other)) {
            seen.set(other, d);
            next.push(other);
            if (seen.size > max) return undefined;
          }
      frontier = next;
    }
    return seen;
  }
}

/** graph_basic over a namespace's graph. */
export function memGraphBasic(store: GraphStore): GraphBasicImpl {
  return {
    addVertex(req) {
      const v = req.vertex!;
      return { vertex: vertexOut(store.addVertex(v.id, v.label, normaliseProperties(v.properties))) };
    },
    getVertex(req) {
      const v = store.vertex(req.id);
      return v ? { found: true, vertex: vertexOut(v) } : { found: false };
    },
    updateVertex(req) {
      const v = store.vertex(req.id);
      if (!v) throw notFound(`vertex "${req.id}" does not exist`);
      v.properties = mergeProperties(v.properties, req.set, req.remove);
      return { vertex: vertexOut(v) };
    },
    deleteVertex(req) {
      const { deleted, deletedEdges } = store.deleteVertex(req.id);
      return { deleted, deletedEdges: BigInt(deletedEdges) };
    },
    addEdge(req) {
      const e = req.edge!;
      const stored = store.addEdge({
        id: e.id,
        label: e.label,
        fromId: e.fromId,
        toId: e.toId,
        properties: normaliseProperties(e.properties),
      });
      return { edge: edgeOut(stored) };
    },
    getEdge(req) {
      const e = store.edge(req.id);
      return e ? { found: true, edge: edgeOut(e) } : { found: false };
    },
    updateEdge(req) {
      const e = store.edge(req.id);
      if (!e) throw notFound(`edge "${req.id}" does not exist`);
      e.properties = mergeProperties(e.properties, req.set, req.remove);
      return { edge: edgeOut(e) };
    },
    deleteEdge(req) {
      return { deleted: store.deleteEdge(req.id) };
    },
  };
}

/** graph_traversal over a namespace's graph, bounded by its max_traversal_depth. */
export function memGraphTraversal(store: GraphStore): GraphTraversalImpl {
  return {
    neighbors(req) {
      if (!store.vertex(req.vertexId)) return { vertices: [], truncated: false };
      const ids = [...new Set(store.steps(req.vertexId, req.edges).map((s) => s.other))].sort(byId);
      const limit = effectiveLimit(req.limit);
      return {
        vertices: ids.slice(0, limit).map((id) => vertexOut(store.vertex(id)!)),
        truncated: ids.length > limit,
      };
    },
    kHop(req) {
      checkDepth(req.depth, store.maxDepth);
      const seen = store.reach([req.startId], req.edges, req.depth)!;
      seen.delete(req.startId);
      const all = [...seen].sort((a, b) => a[1] - b[1] || byId(a[0], b[0]));
      const limit = effectiveLimit(req.limit);
      return {
        vertices: all.slice(0, limit).map(([id, depth]) => ({ vertex: vertexOut(store.vertex(id)!), depth })),
        truncated: all.length > limit,
      };
    },
    shortestPath(req) {
      checkDepth(req.maxDepth, store.maxDepth, 'max_depth');
      const maxDepth = req.maxDepth || store.maxDepth;
      if (!store.vertex(req.fromId) || !store.vertex(req.toId)) return { found: false };
      if (req.fromId === req.toId) return { found: true, vertexIds: [req.fromId], edgeIds: [] };
      // Breadth-first, remembering how each vertex was first reached.
      const via = new Map<string, { prev: string; edge: string }>([[req.fromId, { prev: '', edge: '' }]]);
      let frontier = [req.fromId];
      for (let d = 1; d <= maxDepth && frontier.length > 0; d++) {
        const next: string[] = [];
        for (const v of frontier)
          for (const { edge, other } of store.steps(v, req.edges)) {
            if (via.has(other)) continue;
            via.set(other, { prev: v, edge: edge.id });
            if (other === req.toId) {
              const vertexIds = [other];
              const edgeIds: string[] = [];
              for (let at = other; at !== req.fromId; ) {
                const step = via.get(at)!;
                edgeIds.push(step.edge);
                vertexIds.push(step.prev);
                at = step.prev;
              }
              return { found: true, vertexIds: vertexIds.reverse(), edgeIds: edgeIds.reverse() };
            }
            next.push(other);
          }
        frontier = next;
      }
      return { found: false };
    },
  };
}

/** graph_analytics over a namespace's graph: degree and subgraphs here, the measures in the contract. */
export function memGraphAnalytics(store: GraphStore): GraphAnalyticsImpl {
  return analyticsImpl(
    {
      async degree(_namespace, ids, edges) {
        return ids.map((id) => (store.vertex(id) ? store.steps(id, edges).length : 0));
      },
      async subgraph(_namespace, sub, maxVertices): Promise<FetchedSubgraph> {
        const seen = store.reach(sub.seedIds, sub.edges, sub.depth, maxVertices);
        if (!seen) throw subgraphTooLarge(maxVertices);
        const labels = sub.edges?.labels.length ? new Set(sub.edges.labels) : undefined;
        const edges: { from: string; to: string }[] = [];
        // Every edge among the vertices whose label the filter allows, whatever its direction.
        for (const v of seen.keys())
          for (const { edge } of store.steps(v, undefined))
            if (seen.has(edge.toId) && (!labels || labels.has(edge.label)))
              edges.push({ from: edge.fromId, to: edge.toId });
        return { vertexIds: [...seen.keys()].sort(byId), edges };
      },
    },
    { maxTraversalDepth: store.maxDepth },
  );
}
