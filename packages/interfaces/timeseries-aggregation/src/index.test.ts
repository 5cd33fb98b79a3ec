import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import type { PointLike, Tags } from '@prism/timeseries-basic';
import {
  AggregateRequestSchema,
  Aggregator,
  aggregatePoints,
  assembleGroups,
  bucketSpan,
  bucketStart,
  percentileIndex,
  SeriesSelectorSchema,
  TimeSeriesAggregation,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

type Init = Partial<{
  startNs: bigint;
  endNs: bigint;
  bucketNs: bigint;
  aggregator: Aggregator;
  percentile: number;
  groupBy: string[];
}>;
const validate = (init: Init, series = 's') =>
  errorOf(() =>
    TimeSeriesAggregation.validate.aggregate?.(
      create(AggregateRequestSchema, {
        selector: create(SeriesSelectorSchema, { series }),
        startNs: 0n,
        endNs: 10n,
        bucketNs: 1n,
        aggregator: Aggregator.SUM,
        ...init,
      }),
      DEFAULT_LIMITS,
    ),
  );

const p = (ts: number, value: number, tags: Tags = {}): PointLike => ({
  series: 's',
  tags,
  timestampNs: BigInt(ts),
  value,
});
const run = (
  points: PointLike[],
  aggregator: Aggregator,
  opts: { bucketNs?: bigint; percentile?: number; groupBy?: string[] } = {},
) =>
  aggregatePoints(points, {
    bucketNs: opts.bucketNs ?? 10n,
    aggregator,
    percentile: opts.percentile ?? 0,
    groupBy: opts.groupBy ?? [],
  }).groups.map((g) => ({
    group: { ...g.group },
    buckets: g.buckets.map((b) => [b.startNs, Number(b.count), b.value]),
  }));

describe('TimeSeriesAggregation validators', () => {
  it('accepts a valid request, up to 100000 buckets and 8 group_by names', () => {
    expect(validate({})).toBeUndefined();
    expect(validate({ endNs: 100_000n })).toBeUndefined();
    expect(validate({ groupBy: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] })).toBeUndefined();
    expect(validate({ aggregator: Aggregator.PERCENTILE, percentile: 0 })).toBeUndefined();
    expect(validate({ aggregator: Aggregator.PERCENTILE, percentile: 100 })).toBeUndefined();
    expect(validate({ aggregator: Aggregator.AVG, percentile: Number.NaN })).toBeUndefined();
  });

  it('rejects each bad field with INVALID_ARGUMENT naming it', () => {
    const cases: [Init | string, RegExp][] = [
      [{ startNs: 10n }, /start_ns/],
      [{ bucketNs: 0n }, /bucket_ns must be greater than 0/],
      [{ bucketNs: -5n }, /bucket_ns/],
      [{ endNs: 100_001n }, /100001 buckets.*at most 100000/],
      [{ startNs: -1n, endNs: 999_999n, bucketNs: 10n }, /100001 buckets/],
      [{ aggregator: Aggregator.UNSPECIFIED }, /aggregator is required/],
      [{ aggregator: 42 as Aggregator }, /aggregator 42 is unknown/],
      [{ aggregator: Aggregator.PERCENTILE, percentile: -0.1 }, /percentile/],
      [{ aggregator: Aggregator.PERCENTILE, percentile: Number.NaN }, /percentile/],
      [{ aggregator: Aggregator.PERCENTILE, percentile: Number.POSITIVE_INFINITY }, /percentile/],
      [{ groupBy: Array.from({ length: 9 }, (_, i) => `g${i}`) }, /group_by has 9/],
      [{ groupBy: ['a', 'a'] }, /group_by\[1\] repeats "a"/],
      [{ groupBy: ['ok', 'x\ny'] }, /group_by\[1\]/],
      ['', /selector\.series/],
    ];
    for (const [init, message] of cases) {
      const err = typeof init === 'string' ? validate({}, init) : validate(init);
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(message);
    }
  });
});

describe('buckets', () => {
  it('aligns to the epoch, flooring negative timestamps', () => {
    expect(bucketStart(0n, 10n)).toBe(0n);
    expect(bucketStart(9n, 10n)).toBe(0n);
    expect(bucketStart(-1n, 10n)).toBe(-10n);
    expect(bucketStart(-10n, 10n)).toBe(-10n);
    expect(bucketStart(-11n, 10n)).toBe(-20n);
    expect(bucketStart(1_733_300_000_123_456_789n, 1_000_000_000n)).toBe(1_733_300_000_000_000_000n);
  });
  it('counts the buckets a range touches', () => {
    expect(bucketSpan(0n, 10n, 10n)).toBe(1n);
    expect(bucketSpan(0n, 11n, 10n)).toBe(2n);
    expect(bucketSpan(-1n, 10n, 10n)).toBe(2n);
    expect(bucketSpan(5n, 6n, 10n)).toBe(1n);
    expect(bucketSpan(-(2n ** 63n), 2n ** 63n - 1n, 1n)).toBe(2n ** 64n - 1n);
  });
});

describe('percentileIndex', () => {
  it('is the nearest rank, as percentile_disc', () => {
    expect(percentileIndex(0, 4)).toBe(0);
    expect(percentileIndex(25, 4)).toBe(0);
    expect(percentileIndex(26, 4)).toBe(1);
    expect(percentileIndex(50, 4)).toBe(1);
    expect(percentileIndex(75, 4)).toBe(2);
    expect(percentileIndex(100, 4)).toBe(3);
    expect(percentileIndex(99.9, 1)).toBe(0);
    expect(percentileIndex(0, 1)).toBe(0);
  });
});

describe('aggregatePoints', () => {
  const points = [
    p(0, 3, { h: 'b' }),
    p(0, 1, { h: 'a' }),
    p(5, 2),
    p(9, 8, { h: 'a' }),
    p(9, 4, { h: 'b' }),
    p(-3, -1, { h: 'a' }),
  ];
  it('reduces each bucket with every aggregator', () => {
    expect(run(points, Aggregator.AVG)).toEqual([
      {
        group: {},
        buckets: [
          [-10n, 1, -1],
          [0n, 5, 18 / 5],
        ],
      },
    ]);
    expect(run(points, Aggregator.SUM)[0]!.buckets).toEqual([
      [-10n, 1, -1],
      [0n, 5, 18],
    ]);
    expect(run(points, Aggregator.MIN)[0]!.buckets).toEqual([
      [-10n, 1, -1],
      [0n, 5, 1],
    ]);
    expect(run(points, Aggregator.MAX)[0]!.buckets).toEqual([
      [-10n, 1, -1],
      [0n, 5, 8],
    ]);
    expect(run(points, Aggregator.COUNT)[0]!.buckets).toEqual([
      [-10n, 1, 1],
      [0n, 5, 5],
    ]);
    expect(run(points, Aggregator.FIRST)[0]!.buckets).toEqual([
      [-10n, 1, -1],
      [0n, 5, 1],
    ]);
    expect(run(points, Aggregator.LAST)[0]!.buckets).toEqual([
      [-10n, 1, -1],
      [0n, 5, 4],
    ]);
    // Bucket 0 sorted: 1 2 3 4 8.
    expect(run(points, Aggregator.PERCENTILE, { percentile: 50 })[0]!.buckets[1]![2]).toBe(3);
    expect(run(points, Aggregator.PERCENTILE, { percentile: 0 })[0]!.buckets[1]![2]).toBe(1);
    expect(run(points, Aggregator.PERCENTILE, { percentile: 100 })[0]!.buckets[1]![2]).toBe(8);
    expect(run(points, Aggregator.PERCENTILE, { percentile: 80 })[0]!.buckets[1]![2]).toBe(4);
    expect(run(points, Aggregator.PERCENTILE, { percentile: 81 })[0]!.buckets[1]![2]).toBe(8);
  });
  it('groups by tags, "" for missing, ordered like tag sets', () => {
    expect(run(points, Aggregator.COUNT, { groupBy: ['h'] })).toEqual([
      { group: { h: '' }, buckets: [[0n, 1, 1]] },
      {
        group: { h: 'a' },
        buckets: [
          [-10n, 1, 1],
          [0n, 2, 2],
        ],
      },
      { group: { h: 'b' }, buckets: [[0n, 2, 2]] },
    ]);
  });
  it('answers no groups without points', () => {
    expect(run([], Aggregator.SUM)).toEqual([]);
    expect(run([], Aggregator.SUM, { groupBy: ['h'] })).toEqual([]);
  });
});

describe('assembleGroups', () => {
  it('orders pushed-down buckets as the reference does: groups by tag set, buckets by start', () => {
    const b = (h: string, startNs: bigint, value: number) => ({ group: { h }, startNs, count: 1n, value });
    const res = assembleGroups([
      b('b', 10n, 1),
      b('a', 10n, 2),
      b('b', -10n, 3),
      b('a', 0n, 4),
      b('', 5n, 5),
    ]);
    expect(res.groups.map((g) => [g.group.h, g.buckets.map((k) => [k.startNs, k.value])])).toEqual([
      ['', [[5n, 5]]],
      [
        'a',
        [
          [0n, 4],
          [10n, 2],
        ],
      ],
      [
        'b',
        [
          [-10n, 3],
          [10n, 1],
        ],
      ],
    ]);
    expect(assembleGroups([]).groups).toEqual([]);
  });
});
