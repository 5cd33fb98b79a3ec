import { checkId } from '@prism/graph-basic';
import {
  checkCeiling,
  checkDepth,
  checkEdgeFilter,
  DEFAULT_MAX_TRAVERSAL_DEPTH,
  type EdgeFilter,
} from '@prism/graph-traversal';
import {
  GraphAnalyticsInterface,
  type PageRankRequest,
  type Subgraph,
} from '@prism/proto/prism/graph/v1/graph_analytics_pb';
import { type CallContext, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/graph/v1/graph_analytics_pb';

/** Most ids one Degree request or one Subgraph's seeds may list. */
export const MAX_IDS = 1000;
/** max_vertices when a request sets 0. */
export const DEFAULT_MAX_VERTICES = 10_000;
/** The highest max_vertices a request may ask for. */
export const MAX_MAX_VERTICES = 100_000;
/** damping when a request sets 0. */
export const DEFAULT_DAMPING = 0.85;
/** iterations when a request sets 0. */
export const DEFAULT_ITERATIONS = 20;
/** The most PageRank iterations a request may ask for. */
export const MAX_ITERATIONS = 100;
// Depth bounds are graph_traversal's: one namespace setting bounds every walk.
export { DEFAULT_MAX_TRAVERSAL_DEPTH, MAX_TRAVERSAL_DEPTH_CEILING } from '@prism/graph-traversal';

/** A subgraph a backend fetched: its vertex ids and its directed edges (parallel edges repeat). */
export interface FetchedSubgraph {
  readonly vertexIds: readonly string[];
  readonly edges: readonly { readonly from: string; readonly to: string }[];
}

/** What a backend provides so {@link analyticsImpl} can build graph_analytics on it. */
export interface AnalyticsSource {
  /** Each id's edge count along `edges` (0 for a missing vertex), in the order of `ids`. */
  degree(
    namespace: string,
    ids: readonly string[],
    edges: EdgeFilter | undefined,
    ctx?: CallContext,
  ): Promise<readonly number[]>;
  /**
   * The vertices within `sub.depth` steps of the existing seeds along `sub.edges`, and the edges among them
   * whose label the filter allows. Throws {@link subgraphTooLarge} once more than `maxVertices` are found.
   */
  subgraph(
    namespace: string,
    sub: Subgraph,
    maxVertices: number,
    ctx?: CallContext,
  ): Promise<FetchedSubgraph>;
}

function checkIds(ids: readonly string[], field: string): void {
  if (ids.length === 0) throw invalidArgument(`${field} must list at least one vertex id`);
  if (ids.length > MAX_IDS) throw invalidArgument(`${field} has ${ids.length} ids; at most ${MAX_IDS}`);
  ids.forEach((id, i) => {
    checkId(id, `${field}[${i}]`);
  });
}

/** Checks a Subgraph: 1..1000 seeds, depth within the ceiling, edge filter, max_vertices ≤ 100000. */
export function checkSubgraph(sub: Subgraph | undefined, field = 'subgraph'): void {
  if (!sub) throw invalidArgument(`${field} is required`);
  checkIds(sub.seedIds, `${field}.seed_ids`);
  checkCeiling(sub.depth, `${field}.depth`);
  checkEdgeFilter(sub.edges, `${field}.edges`);
  if (sub.maxVertices > MAX_MAX_VERTICES)
    throw invalidArgument(
      `${field}.max_vertices is ${sub.maxVertices}; at most ${MAX_MAX_VERTICES} (0 means ${DEFAULT_MAX_VERTICES})`,
    );
}

/** Checks PageRank's damping (0 or in (0, 1)) and iterations (at most 100). */
export function checkPageRank(req: PageRankRequest): void {
  checkSubgraph(req.subgraph);
  if (!Number.isFinite(req.damping) || req.damping < 0 || req.damping >= 1)
    throw invalidArgument(`damping is ${req.damping}; it must be in (0, 1) (0 means ${DEFAULT_DAMPING})`);
  if (req.iterations > MAX_ITERATIONS)
    throw invalidArgument(
      `iterations is ${req.iterations}; at most ${MAX_ITERATIONS} (0 means ${DEFAULT_ITERATIONS})`,
    );
}

/** The INVALID_ARGUMENT a backend throws when a subgraph has more than `maxVertices` vertices. */
export const subgraphTooLarge = (maxVertices: number) =>
  invalidArgument(
    `the subgraph has more than max_vertices (${maxVertices}) vertices; narrow subgraph.seed_ids, depth or ` +
      `edges.labels, or raise subgraph.max_vertices (at most ${MAX_MAX_VERTICES})`,
  );

/** The vertex budget of a Subgraph (0 means {@link DEFAULT_MAX_VERTICES}). */
export const effectiveMaxVertices = (sub: Subgraph | undefined): number =>
  sub?.maxVertices ? sub.maxVertices : DEFAULT_MAX_VERTICES;

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Weakly connected components (edge direction ignored): each sorted by id, largest first, ties by smallest
 * first id. Edges to vertices outside `vertexIds` are ignored.
 */
export function connectedComponents(sub: FetchedSubgraph): string[][] {
  const parent = new Map<string, string>();
  for (const v of sub.vertexIds) parent.set(v, v);
  const find = (v: string): string => {
    let root = v;
    while (parent.get(root) !== root) root = parent.get(root)!;
    // Path compression keeps later finds short.
    for (let x = v; x !== root; ) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  for (const { from, to } of sub.edges) {
    if (!parent.has(from) || !parent.has(to)) continue;
    const a = find(from);
    const b = find(to);
    if (a !== b) parent.set(a, b);
  }
  const groups = new Map<string, string[]>();
  for (const v of parent.keys()) {
    const root = find(v);
    const g = groups.get(root);
    if (g) g.push(v);
    else groups.set(root, [v]);
  }
  const out = [...groups.values()].map((g) => g.sort(byId));
  return out.sort((a, b) => b.length - a.length || byId(a[0]!, b[0]!));
}

/**
 * PageRank by `iterations` power iterations over the directed edges (each parallel edge counts), starting
 * from 1/N: r'(v) = (1-d)/N + d·(Σ_{u→v} r(u)/out(u) + Σ_{u dangling} r(u)/N). Ordered by score descending,
 * then id. Edges to vertices outside `vertexIds` are ignored.
 */
export function pageRank(
  sub: FetchedSubgraph,
  damping = DEFAULT_DAMPING,
  iterations = DEFAULT_ITERATIONS,
): { vertexId: string; score: number }[] {
  // Sorted input makes the float sums (hence ties) identical whatever order a backend fetched in.
  const ids = [...new Set(sub.vertexIds)].sort(byId);
  const n = ids.length;
  if (n === 0) return [];
  const index = new Map(ids.map((id, i) => [id, i]));
  const edges: [number, number][] = [];
  const outDegree = new Array<number>(n).fill(0);
  const sorted = [...sub.edges].sort((a, b) => byId(a.from, b.from) || byId(a.to, b.to));
  for (const { from, to } of sorted) {
    const f = index.get(from);
    const t = index.get(to);
    if (f === undefined || t === undefined) continue;
    edges.push([f, t]);
    outDegree[f]!++;
  }
  let rank = new Array<number>(n).fill(1 / n);
  for (let it = 0; it < iterations; it++) {
    let dangling = 0;
    for (let i = 0; i < n; i++) if (outDegree[i] === 0) dangling += rank[i]!;
    const base = (1 - damping) / n + (damping * dangling) / n;
    const next = new Array<number>(n).fill(base);
    for (const [f, t] of edges) next[t]! += (damping * rank[f]!) / outDegree[f]!;
    rank = next;
  }
  return ids
    .map((vertexId, i) => ({ vertexId, score: rank[i]! }))
    .sort((a, b) => b.score - a.score || byId(a.vertexId, b.vertexId));
}

/** Options of {@link analyticsImpl}. */
export interface AnalyticsOptions {
  /** The namespace's max_traversal_depth (default {@link DEFAULT_MAX_TRAVERSAL_DEPTH}). */
  readonly maxTraversalDepth?: number;
}

/** Builds graph_analytics over a backend's degree and subgraph fetch; the measures are computed here. */
export function analyticsImpl(source: AnalyticsSource, options: AnalyticsOptions = {}): GraphAnalyticsImpl {
  const maxDepth = options.maxTraversalDepth ?? DEFAULT_MAX_TRAVERSAL_DEPTH;
  // The call context goes to the backend so its queries see the caller's deadline and cancellation.
  const fetch = (namespace: string, sub: Subgraph | undefined, ctx: CallContext) => {
    checkDepth(sub?.depth ?? 0, maxDepth, 'subgraph.depth');
    return source.subgraph(namespace, sub!, effectiveMaxVertices(sub), ctx);
  };
  return {
    async degree(req, ctx) {
      const counts = await source.degree(req.namespace, req.vertexIds, req.edges, ctx);
      return {
        degrees: req.vertexIds.map((vertexId, i) => ({ vertexId, degree: BigInt(counts[i] ?? 0) })),
      };
    },
    async connectedComponents(req, ctx) {
      const sub = await fetch(req.namespace, req.subgraph, ctx);
      return { components: connectedComponents(sub).map((vertexIds) => ({ vertexIds })) };
    },
    async pageRank(req, ctx) {
      const sub = await fetch(req.namespace, req.subgraph, ctx);
      const scores = pageRank(sub, req.damping || DEFAULT_DAMPING, req.iterations || DEFAULT_ITERATIONS);
      return { scores };
    },
  };
}

/** The graph_analytics flavour: degree, weakly connected components and PageRank on bounded subgraphs. */
export const GraphAnalytics = defineInterface(
  'graph_analytics',
  GraphAnalyticsInterface,
  { degree: 'read', connectedComponents: 'read', pageRank: 'read' },
  {
    degree: (req) => {
      checkIds(req.vertexIds, 'vertex_ids');
      checkEdgeFilter(req.edges, 'edges');
    },
    connectedComponents: (req) => checkSubgraph(req.subgraph),
    pageRank: checkPageRank,
  },
);

/** What an adapter implements for graph_analytics. */
export type GraphAnalyticsImpl = InterfaceImpl<typeof GraphAnalyticsInterface>;
