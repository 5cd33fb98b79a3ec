import { create } from '@bufbuild/protobuf';
import {
  type AggregateRequest,
  type AggregateResponse,
  AggregateResponseSchema,
  Aggregator,
  TimeSeriesAggregationInterface,
} from '@prism/proto/prism/timeseries/v1/timeseries_aggregation_pb';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';
import {
  checkSelector,
  checkTagName,
  checkTimeRange,
  compareBigints,
  compareCodePoints,
  comparePoints,
  floorDiv,
  type PointLike,
  tagKey,
} from '@prism/timeseries-basic';

export * from '@prism/proto/prism/timeseries/v1/timeseries_aggregation_pb';
// The selector of an AggregateRequest is timeseries_basic's message.
export { type SeriesSelector, SeriesSelectorSchema } from '@prism/timeseries-basic';

/** Most buckets an Aggregate range may span (widen bucket_ns or narrow the range beyond). */
export const MAX_BUCKETS = 100_000;
/** Most tag names in group_by. */
export const MAX_GROUP_BY = 8;

/** The aggregators a request may name (everything but UNSPECIFIED). */
const KNOWN_AGGREGATORS = new Set<number>([
  Aggregator.AVG,
  Aggregator.MIN,
  Aggregator.MAX,
  Aggregator.SUM,
  Aggregator.COUNT,
  Aggregator.PERCENTILE,
  Aggregator.FIRST,
  Aggregator.LAST,
]);

/** The start of the epoch-aligned bucket holding `timestampNs` (floor, also for negative timestamps). */
export const bucketStart = (timestampNs: bigint, bucketNs: bigint): bigint =>
  floorDiv(timestampNs, bucketNs) * bucketNs;

/** How many epoch-aligned buckets [startNs, endNs) touches (start < end). */
export const bucketSpan = (startNs: bigint, endNs: bigint, bucketNs: bigint): bigint =>
  floorDiv(endNs - 1n, bucketNs) - floorDiv(startNs, bucketNs) + 1n;

/**
 * The nearest-rank index (0-based) of `percentile` among `n` sorted values, computed as PostgreSQL's
 * percentile_disc does (ceil(fraction * n), at least the first), so a pushed-down query agrees exactly.
 */
export function percentileIndex(percentile: number, n: number): number {
  const rank = Math.ceil((percentile / 100) * n);
  return Math.min(Math.max(rank, 1), n) - 1;
}

function checkAggregate(req: AggregateRequest): void {
  checkSelector(req.selector);
  checkTimeRange(req.startNs, req.endNs);
  if (req.bucketNs <= 0n) throw invalidArgument(`bucket_ns must be greater than 0 (got ${req.bucketNs})`);
  const span = bucketSpan(req.startNs, req.endNs, req.bucketNs);
  if (span > BigInt(MAX_BUCKETS))
    throw invalidArgument(
      `the range spans ${span} buckets of bucket_ns ${req.bucketNs}; at most ${MAX_BUCKETS} (widen bucket_ns or narrow the range)`,
    );
  if (req.aggregator === Aggregator.UNSPECIFIED)
    throw invalidArgument('aggregator is required (AVG, MIN, MAX, SUM, COUNT, PERCENTILE, FIRST or LAST)');
  if (!KNOWN_AGGREGATORS.has(req.aggregator))
    throw invalidArgument(`aggregator ${req.aggregator} is unknown`);
  if (req.aggregator === Aggregator.PERCENTILE && !(req.percentile >= 0 && req.percentile <= 100))
    throw invalidArgument(`percentile must be a finite number from 0 to 100 (got ${req.percentile})`);
  if (req.groupBy.length > MAX_GROUP_BY)
    throw invalidArgument(`group_by has ${req.groupBy.length} tag names; at most ${MAX_GROUP_BY}`);
  const seen = new Set<string>();
  for (let i = 0; i < req.groupBy.length; i++) {
    const name = req.groupBy[i]!;
    checkTagName(name, `group_by[${i}]`);
    if (seen.has(name))
      throw invalidArgument(`group_by[${i}] repeats ${JSON.stringify(name)}; names must be distinct`);
    seen.add(name);
  }
}

/** Reduces the points of one bucket (non-empty) with the request's aggregator. */
function reduce(points: PointLike[], aggregator: Aggregator, percentile: number): number {
  switch (aggregator) {
    case Aggregator.AVG: {
      let sum = 0;
      for (const p of points) sum += p.value;
      return sum / points.length;
    }
    case Aggregator.SUM: {
      let sum = 0;
      for (const p of points) sum += p.value;
      return sum;
    }
    case Aggregator.MIN:
      return points.reduce((m, p) => Math.min(m, p.value), Number.POSITIVE_INFINITY);
    case Aggregator.MAX:
      return points.reduce((m, p) => Math.max(m, p.value), Number.NEGATIVE_INFINITY);
    case Aggregator.COUNT:
      return points.length;
    case Aggregator.PERCENTILE: {
      const values = points.map((p) => p.value).sort((a, b) => a - b);
      return values[percentileIndex(percentile, values.length)]!;
    }
    case Aggregator.FIRST:
      return points.reduce((best, p) => (comparePoints(p, best) < 0 ? p : best)).value;
    case Aggregator.LAST:
      return points.reduce((best, p) => (comparePoints(p, best) > 0 ? p : best)).value;
    default:
      throw invalidArgument(`aggregator ${aggregator} is unknown`);
  }
}

/** One reduced bucket of one group, as the reference or a backend that pushes Aggregate down computes it. */
export interface GroupBucket {
  /** The group_by values ("" for a missing tag). */
  readonly group: Record<string, string>;
  readonly startNs: bigint;
  readonly count: bigint;
  readonly value: number;
}

/**
 * Aggregate's answer from reduced buckets (one per group and bucket start, any order): groups ordered like
 * Query orders tag sets, buckets by start.
 */
export function assembleGroups(buckets: Iterable<GroupBucket>): AggregateResponse {
  const groups = new Map<string, { group: Record<string, string>; buckets: GroupBucket[] }>();
  for (const b of buckets) {
    const key = tagKey(b.group);
    const g = groups.get(key);
    if (g) g.buckets.push(b);
    else groups.set(key, { group: b.group, buckets: [b] });
  }
  return create(AggregateResponseSchema, {
    groups: [...groups.entries()]
      .sort(([a], [b]) => compareCodePoints(a, b))
      .map(([, g]) => ({
        group: g.group,
        buckets: g.buckets
          .sort((a, b) => compareBigints(a.startNs, b.startNs))
          .map(({ startNs, count, value }) => ({ startNs, count, value })),
      })),
  });
}

/**
 * The reference Aggregate: buckets the given points (already selected: series, tags, [start, end) and
 * retention) by epoch-aligned bucket and group_by values ("" for a missing tag), reduces each bucket, and
 * orders groups like Query orders tag sets and buckets by start ({@link assembleGroups}). Groups come from
 * points: none without points. SQL backends may push the work down but must answer exactly this.
 */
export function aggregatePoints(
  points: Iterable<PointLike>,
  request: Pick<AggregateRequest, 'bucketNs' | 'aggregator' | 'percentile' | 'groupBy'>,
): AggregateResponse {
  const buckets = new Map<string, { group: Record<string, string>; startNs: bigint; points: PointLike[] }>();
  for (const point of points) {
    const group: Record<string, string> = {};
    for (const name of request.groupBy)
      group[name] = Object.hasOwn(point.tags, name) ? point.tags[name]! : '';
    const startNs = bucketStart(point.timestampNs, request.bucketNs);
    const key = `${startNs} ${tagKey(group)}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.points.push(point);
    else buckets.set(key, { group, startNs, points: [point] });
  }
  return assembleGroups(
    [...buckets.values()].map((b) => ({
      group: b.group,
      startNs: b.startNs,
      count: BigInt(b.points.length),
      value: reduce(b.points, request.aggregator, request.percentile),
    })),
  );
}

/** The timeseries_aggregation flavour: one value per epoch-aligned time bucket and group_by group. */
export const TimeSeriesAggregation = defineInterface(
  'timeseries_aggregation',
  TimeSeriesAggregationInterface,
  { aggregate: 'read' },
  { aggregate: checkAggregate },
);

/** What an adapter implements for timeseries_aggregation. */
export type TimeSeriesAggregationImpl = InterfaceImpl<typeof TimeSeriesAggregationInterface>;
