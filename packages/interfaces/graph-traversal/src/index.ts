import { checkId, checkLabel } from '@prism/graph-basic';
import {
  Direction,
  type EdgeFilter,
  GraphTraversalInterface,
  type KHopRequest,
  type NeighborsRequest,
  type ShortestPathRequest,
} from '@prism/proto/prism/graph/v1/graph_traversal_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/graph/v1/graph_traversal_pb';

/** max_traversal_depth when a namespace's backend config sets none. */
export const DEFAULT_MAX_TRAVERSAL_DEPTH = 6;
/** The highest max_traversal_depth a backend config may set (and the contract's absolute depth bound). */
export const MAX_TRAVERSAL_DEPTH_CEILING = 32;
/** Results a traversal answers when `limit` is 0. */
export const DEFAULT_LIMIT = 1000;
/** The highest `limit` a traversal accepts. */
export const MAX_LIMIT = 10_000;
/** Most edge labels one filter names. */
export const MAX_FILTER_LABELS = 64;

/** Throws INVALID_ARGUMENT unless `id` is a valid vertex id (graph_basic's id rule). */
export const checkVertexId = (id: string, field: string): void => checkId(id, field);

/** Throws INVALID_ARGUMENT for an unknown direction or a malformed label. */
export function checkEdgeFilter(filter: EdgeFilter | undefined, field = 'edges'): void {
  if (!filter) return;
  if (!(filter.direction in Direction))
    throw invalidArgument(`${field}.direction ${filter.direction} is not a known direction`);
  if (filter.labels.length > MAX_FILTER_LABELS)
    throw invalidArgument(`${field}.labels has ${filter.labels.length} labels; at most ${MAX_FILTER_LABELS}`);
  filter.labels.forEach((l, i) => {
    checkLabel(l, `${field}.labels[${i}]`);
  });
}

/** The direction a filter follows (UNSPECIFIED is OUT). */
export const directionOf = (filter: EdgeFilter | undefined): Direction.OUT | Direction.IN | Direction.BOTH =>
  filter?.direction === Direction.IN
    ? Direction.IN
    : filter?.direction === Direction.BOTH
      ? Direction.BOTH
      : Direction.OUT;

/** Throws INVALID_ARGUMENT when `limit` exceeds {@link MAX_LIMIT}. */
export function checkLimit(limit: number, field = 'limit'): void {
  if (limit > MAX_LIMIT)
    throw invalidArgument(`${field} is ${limit}; at most ${MAX_LIMIT} (0 means ${DEFAULT_LIMIT})`);
}

/** The number of results a request with `limit` may answer (0 means {@link DEFAULT_LIMIT}). */
export const effectiveLimit = (limit: number): number => (limit === 0 ? DEFAULT_LIMIT : limit);

/**
 * Throws INVALID_ARGUMENT when `depth` exceeds the namespace's max_traversal_depth `max`; adapters call
 * it with their config (the contract validator already bounds every depth by the ceiling of 32).
 */
export function checkDepth(depth: number, max: number, field = 'depth'): void {
  if (depth > max)
    throw invalidArgument(`${field} ${depth} exceeds this namespace's max_traversal_depth (${max})`);
}

/** Throws INVALID_ARGUMENT when a depth exceeds what any namespace allows ({@link MAX_TRAVERSAL_DEPTH_CEILING}). */
export function checkCeiling(depth: number, field = 'depth'): void {
  if (depth > MAX_TRAVERSAL_DEPTH_CEILING)
    throw invalidArgument(
      `${field} ${depth} exceeds the highest traversal depth (${MAX_TRAVERSAL_DEPTH_CEILING})`,
    );
}

function checkNeighbors(req: NeighborsRequest): void {
  checkVertexId(req.vertexId, 'vertex_id');
  checkEdgeFilter(req.edges);
  checkLimit(req.limit);
}

function checkKHop(req: KHopRequest): void {
  checkVertexId(req.startId, 'start_id');
  checkEdgeFilter(req.edges);
  if (req.depth < 1) throw invalidArgument('depth must be at least 1');
  checkCeiling(req.depth, 'depth');
  checkLimit(req.limit);
}

function checkShortestPath(req: ShortestPathRequest): void {
  checkVertexId(req.fromId, 'from_id');
  checkVertexId(req.toId, 'to_id');
  checkEdgeFilter(req.edges);
  checkCeiling(req.maxDepth, 'max_depth');
}

/** The graph_traversal flavour: bounded neighbours, k-hop and shortest-path walks. */
export const GraphTraversal = defineInterface(
  'graph_traversal',
  GraphTraversalInterface,
  { neighbors: 'read', kHop: 'read', shortestPath: 'read' },
  { neighbors: checkNeighbors, kHop: checkKHop, shortestPath: checkShortestPath },
);

/** What an adapter implements for graph_traversal. */
export type GraphTraversalImpl = InterfaceImpl<typeof GraphTraversalInterface>;
