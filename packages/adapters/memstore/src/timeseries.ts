import { unavailable } from '@prism/sdk';
import { aggregatePoints, type TimeSeriesAggregationImpl } from '@prism/timeseries-aggregation';
import {
  checkWriteRetention,
  compareCodePoints,
  effectiveBatchSize,
  inBatches,
  matchesTags,
  type PointLike,
  retentionCutoffNs,
  type Tags,
  type TimeSeriesBasicImpl,
  tagKey,
} from '@prism/timeseries-basic';
import {
  resample,
  SAMPLE_BATCH_SIZE,
  type SampleValue,
  type SortedInterpolationInput,
  type TimedValue,
  type TimeSeriesInterpolationImpl,
} from '@prism/timeseries-interpolation';
import type { TimeSeriesRetentionImpl } from '@prism/timeseries-retention';

// Time series of one namespace: series name → canonical tag key → one instance (a tag set) holding its
// points by timestamp. Every operation is synchronous, hence atomic. Retention is held here; reads filter
// by the cutoff at once and an unref'd sweep (every sweep_interval_ms, like the key/value expiry sweep)
// removes what aged out, so memory does not grow with points nobody reads.

/** One series instance: a tag set and its points, one value per timestamp. */
class Instance {
  readonly values = new Map<bigint, number>();
  /** Timestamps ascending; undefined after an out-of-order insert until the next read sorts them. */
  private order: bigint[] | undefined = [];

  constructor(
    readonly series: string,
    readonly tags: Tags,
    readonly key: string,
  ) {}

  set(ts: bigint, value: number): void {
    if (!this.values.has(ts)) {
      const order = this.order;
      // Appends (the usual case for time series) keep the order; anything else re-sorts lazily.
      if (order && (order.length === 0 || ts > order[order.length - 1]!)) order.push(ts);
      else this.order = undefined;
    }
    this.values.set(ts, value);
  }

  private sorted(): bigint[] {
    if (!this.order) this.order = [...this.values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.order;
  }

  /** Index of the first timestamp >= ts. */
  private lowerBound(ts: bigint): number {
    const order = this.sorted();
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Timestamps in [from, to), ascending. */
  range(from: bigint, to: bigint): bigint[] {
    if (from >= to) return [];
    return this.sorted().slice(this.lowerBound(from), this.lowerBound(to));
  }

  /** The points in [from, to), ascending, read lazily (no copy of the range). */
  *points(from: bigint, to: bigint): Generator<TimedValue> {
    if (from >= to) return;
    const order = this.sorted();
    for (let i = this.lowerBound(from), end = this.lowerBound(to); i < end; i++)
      yield { timestampNs: order[i]!, value: this.values.get(order[i]!)! };
  }

  /** The latest point before `ts` at or after `floor`, if any. */
  before(ts: bigint, floor: bigint | undefined): TimedValue | undefined {
    const i = this.lowerBound(ts) - 1;
    if (i < 0) return undefined;
    const t = this.sorted()[i]!;
    return floor !== undefined && t < floor ? undefined : { timestampNs: t, value: this.values.get(t)! };
  }

  /** The earliest point at or after `ts`, if any. */
  atOrAfter(ts: bigint): TimedValue | undefined {
    const order = this.sorted();
    const i = this.lowerBound(ts);
    if (i >= order.length) return undefined;
    return { timestampNs: order[i]!, value: this.values.get(order[i]!)! };
  }

  /** Removes the points before `cutoff`; answers how many. */
  dropBefore(cutoff: bigint): number {
    const n = this.lowerBound(cutoff);
    if (n === 0) return 0;
    const order = this.sorted();
    for (let i = 0; i < n; i++) this.values.delete(order[i]!);
    this.order = order.slice(n);
    return n;
  }

  get size(): number {
    return this.values.size;
  }
}

/** A point read from the store, with its instance's tag key for ordering. */
interface Found extends PointLike {
  readonly key: string;
}

const MIN_NS = -(2n ** 63n);

/** The time series of one namespace, with its retention period. */
export class TimeSeriesStore {
  private readonly series = new Map<string, Map<string, Instance>>();
  private retentionMs = 0n;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly namespace: string,
    readonly sweepIntervalMs: number,
  ) {
    this.timer = setInterval(() => this.sweep(), sweepIntervalMs);
    this.timer.unref();
  }

  private assertOpen(): void {
    if (this.closed)
      throw unavailable(
        `memstore backend of namespace "${this.namespace}" is closed; the namespace was shut down`,
      );
  }

  /** The oldest visible timestamp now (undefined = keep forever). */
  cutoff(): bigint | undefined {
    return retentionCutoffNs(this.retentionMs);
  }

  /** Stores a validated batch: all points, or none when one is older than the retention period. */
  write(points: readonly PointLike[]): number {
    this.assertOpen();
    checkWriteRetention(points, this.cutoff(), this.retentionMs);
    for (const p of points) {
      let instances = this.series.get(p.series);
      if (!instances) {
        instances = new Map();
        this.series.set(p.series, instances);
      }
      const key = tagKey(p.tags);
      let inst = instances.get(key);
      if (!inst) {
        inst = new Instance(p.series, { ...p.tags }, key);
        instances.set(key, inst);
      }
      inst.set(p.timestampNs, p.value);
    }
    return points.length;
  }

  /** The visible points of `series` carrying `tags` in [start, end), in Query order. */
  select(series: string, tags: Tags, startNs: bigint, endNs: bigint): Found[] {
    this.assertOpen();
    const cutoff = this.cutoff();
    const from = cutoff !== undefined && cutoff > startNs ? cutoff : startNs;
    const out: Found[] = [];
    for (const inst of this.series.get(series)?.values() ?? []) {
      if (!matchesTags(inst.tags, tags)) continue;
      for (const t of inst.range(from, endNs))
        out.push({ series, tags: inst.tags, timestampNs: t, value: inst.values.get(t)!, key: inst.key });
    }
    return out.sort(
      (a, b) =>
        (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0) ||
        compareCodePoints(a.key, b.key),
    );
  }

  /**
   * One instance's neighbourhood of [start, end) for interpolation, within retention; `points` is read
   * lazily and must be consumed before the store changes.
   */
  around(
    series: string,
    tags: Tags,
    startNs: bigint,
    endNs: bigint,
  ): SortedInterpolationInput<Iterable<TimedValue>> {
    this.assertOpen();
    const inst = this.series.get(series)?.get(tagKey(tags));
    if (!inst) return { points: [] };
    const cutoff = this.cutoff();
    const from = cutoff !== undefined && cutoff > startNs ? cutoff : startNs;
    const after = inst.atOrAfter(endNs);
    return {
      before: inst.before(startNs, cutoff),
      points: inst.points(from, endNs),
      after: after && (cutoff === undefined || after.timestampNs >= cutoff) ? after : undefined,
    };
  }

  get retention(): bigint {
    return this.retentionMs;
  }

  /** Sets the period and removes what falls outside at once; answers the points removed. */
  setRetention(retentionMs: bigint): number {
    this.assertOpen();
    this.retentionMs = retentionMs;
    return this.sweep();
  }

  /** Removes points older than the retention period (and instances left empty); answers how many. */
  sweep(): number {
    const cutoff = this.cutoff();
    if (this.closed || cutoff === undefined || cutoff <= MIN_NS) return 0;
    let removed = 0;
    for (const [name, instances] of this.series) {
      for (const [key, inst] of instances) {
        removed += inst.dropBefore(cutoff);
        if (inst.size === 0) instances.delete(key);
      }
      if (instances.size === 0) this.series.delete(name);
    }
    return removed;
  }

  /** Points held, including aged-out points the sweep has not reached yet. */
  get size(): number {
    let n = 0;
    for (const instances of this.series.values()) for (const inst of instances.values()) n += inst.size;
    return n;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.series.clear();
  }
}

/** timeseries_basic over a {@link TimeSeriesStore}. */
export function memTimeSeriesBasic(store: TimeSeriesStore): TimeSeriesBasicImpl {
  return {
    write: (req) => ({ written: BigInt(store.write(req.points)) }),
    async *query(req, ctx) {
      const selector = req.selector!;
      let found = store.select(selector.series, selector.tags, req.startNs, req.endNs);
      if (req.limit > 0 && found.length > req.limit) found = found.slice(0, req.limit);
      for (const batch of inBatches(found, effectiveBatchSize(req.batchSize))) {
        if (ctx.signal.aborted) return;
        yield {
          points: batch.map((p) => ({
            series: p.series,
            tags: { ...p.tags },
            timestampNs: p.timestampNs,
            value: p.value,
          })),
        };
      }
    },
  };
}

/** timeseries_aggregation over a {@link TimeSeriesStore}: the contract's reference aggregation. */
export function memTimeSeriesAggregation(store: TimeSeriesStore): TimeSeriesAggregationImpl {
  return {
    aggregate: (req) => {
      const selector = req.selector!;
      return aggregatePoints(store.select(selector.series, selector.tags, req.startNs, req.endNs), req);
    },
  };
}

/** timeseries_retention over a {@link TimeSeriesStore}. */
export function memTimeSeriesRetention(store: TimeSeriesStore): TimeSeriesRetentionImpl {
  return {
    setRetention: (req) => ({ droppedPartitions: BigInt(store.setRetention(req.retentionMs)) }),
    getRetention: () => ({
      retentionMs: store.retention,
      enforcement: `expiry: older points are hidden on read at once and removed by a sweep every ${store.sweepIntervalMs} ms (dropped_partitions counts removed points)`,
    }),
  };
}

/** timeseries_interpolation over a {@link TimeSeriesStore}: the contract's reference interpolation. */
export function memTimeSeriesInterpolation(store: TimeSeriesStore): TimeSeriesInterpolationImpl {
  return {
    async *interpolate(req, ctx) {
      // Computed at once (the store is synchronous, so the samples are one consistent read); they are at
      // most MAX_SAMPLES, and the points are walked in place, not copied.
      const samples: SampleValue[] = [];
      for (const s of resample(store.around(req.series, req.tags, req.startNs, req.endNs), req))
        samples.push(s);
      for (const batch of inBatches(samples, SAMPLE_BATCH_SIZE)) {
        if (ctx.signal.aborted) return;
        yield { samples: batch };
      }
    },
  };
}
