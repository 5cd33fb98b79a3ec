import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import type { Tags } from '@prism/timeseries-basic';
import { basicOf, pt } from '@prism/timeseries-basic/conformance';
import {
  AggregateRequestSchema,
  Aggregator,
  MAX_BUCKETS,
  SeriesSelectorSchema,
  TimeSeriesAggregation,
  type TimeSeriesAggregationImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A bucket as the suite compares it: [start_ns, count, value]. */
export type TestBucket = [bigint, number, number];
/** A group as the suite compares it. */
export interface TestGroup {
  group: Record<string, string>;
  buckets: TestBucket[];
}

/** Aggregate options of {@link timeSeriesAggregation}. */
export interface AggregateOptions {
  tags?: Tags;
  percentile?: number;
  groupBy?: string[];
}

/** Small typed client over a timeseries_aggregation implementation. */
export function timeSeriesAggregation(impl: TimeSeriesAggregationImpl, namespace: string) {
  return {
    aggregate: async (
      series: string,
      startNs: bigint,
      endNs: bigint,
      bucketNs: bigint,
      aggregator: Aggregator,
      opts: AggregateOptions = {},
    ): Promise<TestGroup[]> => {
      const res = await impl.aggregate(
        create(AggregateRequestSchema, {
          namespace,
          selector: create(SeriesSelectorSchema, { series, tags: { ...(opts.tags ?? {}) } }),
          startNs,
          endNs,
          bucketNs,
          aggregator,
          percentile: opts.percentile ?? 0,
          groupBy: opts.groupBy ?? [],
        }),
        ctx,
      );
      return (res.groups ?? []).map((g) => ({
        group: { ...(g.group ?? {}) },
        buckets: (g.buckets ?? []).map(
          (b): TestBucket => [b.startNs ?? 0n, Number(b.count ?? 0n), b.value ?? 0],
        ),
      }));
    },
  };
}

/**
 * The timeseries_aggregation conformance suite: every aggregator (nearest-rank percentiles, first/last tie
 * rules), epoch-aligned buckets including negative timestamps, range edges, group_by with missing tags and
 * group order, selector tags, and every input rule.
 */
export function describeTimeSeriesAggregationConformance(label: string, factory: PluginFactory): void {
  describe(`timeseries_aggregation conformance: ${label}`, () => {
    let handle: PluginHandle;
    let agg: ReturnType<typeof timeSeriesAggregation>;
    let basic: ReturnType<typeof basicOf>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(TimeSeriesAggregation);
      if (!impl) throw new Error(`${label} does not implement timeseries_aggregation`);
      agg = timeSeriesAggregation(impl, namespace);
      basic = basicOf(handle, label, namespace);
      // Bucket [0, 10): a@0=1 b@0=7 b@3=2 a@3=5 a@9=3 b@9=4; [10, 20): a@10=10 b@12=6; [20, 30): a@25=-4;
      // outside [0, 30): a@-1=100, a@30=100; another series: other@5=1000.
      await basic.write(
        pt('agg', { host: 'a' }, 0, 1),
        pt('agg', { host: 'b' }, 0, 7),
        pt('agg', { host: 'b' }, 3, 2),
        pt('agg', { host: 'a', region: 'eu' }, 3, 5),
        pt('agg', { host: 'a' }, 9, 3),
        pt('agg', { host: 'b' }, 9, 4),
        pt('agg', { host: 'a' }, 10, 10),
        pt('agg', { host: 'b', region: 'eu' }, 12, 6),
        pt('agg', { host: 'a' }, 25, -4),
        pt('agg', { host: 'a' }, -1, 100),
        pt('agg', { host: 'a' }, 30, 100),
        pt('other', { host: 'a' }, 5, 1000),
      );
    });
    afterAll(async () => {
      await handle?.close();
    });

    const whole = (buckets: TestBucket[]): TestGroup[] => [{ group: {}, buckets }];
    const run = (aggregator: Aggregator, opts?: AggregateOptions) =>
      agg.aggregate('agg', 0n, 30n, 10n, aggregator, opts);

    it('averages, sums and counts each bucket; only buckets with points', async () => {
      expect(await run(Aggregator.AVG)).toEqual(
        whole([
          [0n, 6, 22 / 6],
          [10n, 2, 8],
          [20n, 1, -4],
        ]),
      );
      expect(await run(Aggregator.SUM)).toEqual(
        whole([
          [0n, 6, 22],
          [10n, 2, 16],
          [20n, 1, -4],
        ]),
      );
      expect(await run(Aggregator.COUNT)).toEqual(
        whole([
          [0n, 6, 6],
          [10n, 2, 2],
          [20n, 1, 1],
        ]),
      );
      expect(await agg.aggregate('agg', 0n, 30n, 5n, Aggregator.COUNT)).toEqual(
        whole([
          [0n, 4, 4],
          [5n, 2, 2],
          [10n, 2, 2],
          [25n, 1, 1],
        ]),
      );
    });

    it('takes the minimum and the maximum', async () => {
      expect(await run(Aggregator.MIN)).toEqual(
        whole([
          [0n, 6, 1],
          [10n, 2, 6],
          [20n, 1, -4],
        ]),
      );
      expect(await run(Aggregator.MAX)).toEqual(
        whole([
          [0n, 6, 7],
          [10n, 2, 10],
          [20n, 1, -4],
        ]),
      );
    });

    it('takes the first and the last point, ties on the timestamp by tag set order', async () => {
      // At 0: {host:a} sorts before {host:b}, so FIRST is a's 1; at 9 LAST takes the larger {host:b}: 4.
      expect(await run(Aggregator.FIRST)).toEqual(
        whole([
          [0n, 6, 1],
          [10n, 2, 10],
          [20n, 1, -4],
        ]),
      );
      expect(await run(Aggregator.LAST)).toEqual(
        whole([
          [0n, 6, 4],
          [10n, 2, 6],
          [20n, 1, -4],
        ]),
      );
    });

    it('takes nearest-rank percentiles (percentile_disc): 0 is the minimum, 100 the maximum', async () => {
      // Bucket 0 sorted: 1 2 3 4 5 7 (n = 6); bucket 10: 6 10; bucket 20: -4.
      const p = async (percentile: number) =>
        (await run(Aggregator.PERCENTILE, { percentile }))[0]!.buckets.map((b) => b[2]);
      expect(await p(0)).toEqual([1, 6, -4]);
      expect(await p(10)).toEqual([1, 6, -4]); // ceil(0.6) = 1st
      expect(await p(50)).toEqual([3, 6, -4]); // 3rd of 6, 1st of 2
      expect(await p(51)).toEqual([4, 10, -4]); // ceil(3.06) = 4th, ceil(1.02) = 2nd
      expect(await p(75)).toEqual([5, 10, -4]); // ceil(4.5) = 5th
      expect(await p(90)).toEqual([7, 10, -4]);
      expect(await p(100)).toEqual([7, 10, -4]);
      expect(await p(2.5)).toEqual([1, 6, -4]);
    });

    it('keeps points outside [start_ns, end_ns) out, and aligns buckets to the epoch, not to start_ns', async () => {
      expect(await agg.aggregate('agg', 3n, 12n, 10n, Aggregator.SUM)).toEqual(
        whole([
          [0n, 4, 14],
          [10n, 1, 10],
        ]),
      );
      expect(await agg.aggregate('agg', -1n, 31n, 10n, Aggregator.COUNT)).toEqual(
        whole([
          [-10n, 1, 1],
          [0n, 6, 6],
          [10n, 2, 2],
          [20n, 1, 1],
          [30n, 1, 1],
        ]),
      );
      expect(await agg.aggregate('agg', 0n, 100n, 1000n, Aggregator.SUM)).toEqual(whole([[0n, 10, 134]]));
    });

    it('floors negative timestamps into their buckets', async () => {
      await basic.write(
        ...[
          [-15, 1],
          [-11, 2],
          [-10, 3],
          [-1, 4],
          [0, 5],
          [9, 6],
        ].map(([t, v]) => pt('neg', {}, t!, v!)),
      );
      expect(await agg.aggregate('neg', -15n, 10n, 10n, Aggregator.SUM)).toEqual(
        whole([
          [-20n, 2, 3],
          [-10n, 2, 7],
          [0n, 2, 11],
        ]),
      );
      expect(await agg.aggregate('neg', -12n, 10n, 10n, Aggregator.SUM)).toEqual(
        whole([
          [-20n, 1, 2],
          [-10n, 2, 7],
          [0n, 2, 11],
        ]),
      );
      expect(await agg.aggregate('neg', -100n, 100n, 3n, Aggregator.COUNT)).toEqual(
        whole([
          [-15n, 1, 1],
          [-12n, 2, 2],
          [-3n, 1, 1],
          [0n, 1, 1],
          [9n, 1, 1],
        ]),
      );
    });

    it('buckets nanosecond timestamps exactly with wide buckets', async () => {
      const hour = 3_600_000_000_000n;
      const t = 1_733_300_000_123_456_789n;
      await basic.write(pt('wide', {}, t, 1), pt('wide', {}, t + 1n, 2), pt('wide', {}, -t, 4));
      const start = (t / hour) * hour;
      expect(await agg.aggregate('wide', start - hour, start + 2n * hour, hour, Aggregator.SUM)).toEqual(
        whole([[start, 2, 3]]),
      );
      expect(await agg.aggregate('wide', -t - hour, -t + hour, hour, Aggregator.SUM)).toEqual(
        whole([[-start - hour, 1, 4]]),
      );
      expect(await agg.aggregate('wide', t, t + 1n, 1n, Aggregator.LAST)).toEqual(whole([[t, 1, 1]]));
    });

    it('narrows by selector tags (a subset match)', async () => {
      expect(await run(Aggregator.SUM, { tags: { host: 'a' } })).toEqual(
        whole([
          [0n, 3, 9],
          [10n, 1, 10],
          [20n, 1, -4],
        ]),
      );
      expect(await run(Aggregator.COUNT, { tags: { region: 'eu' } })).toEqual(
        whole([
          [0n, 1, 1],
          [10n, 1, 1],
        ]),
      );
    });

    it('answers no groups when no point matches', async () => {
      expect(await run(Aggregator.SUM, { tags: { host: 'nobody' } })).toEqual([]);
      expect(await agg.aggregate('missing', 0n, 30n, 10n, Aggregator.COUNT)).toEqual([]);
      expect(
        await agg.aggregate('agg', 0n, 30n, 10n, Aggregator.COUNT, {
          groupBy: ['host'],
          tags: { host: 'z' },
        }),
      ).toEqual([]);
    });

    it('groups by tag values, "" for a missing tag, groups ordered like tag sets', async () => {
      expect(await run(Aggregator.SUM, { groupBy: ['host'] })).toEqual([
        {
          group: { host: 'a' },
          buckets: [
            [0n, 3, 9],
            [10n, 1, 10],
            [20n, 1, -4],
          ],
        },
        {
          group: { host: 'b' },
          buckets: [
            [0n, 3, 13],
            [10n, 1, 6],
          ],
        },
      ]);
      expect(await run(Aggregator.COUNT, { groupBy: ['region'] })).toEqual([
        {
          group: { region: '' },
          buckets: [
            [0n, 5, 5],
            [10n, 1, 1],
            [20n, 1, 1],
          ],
        },
        {
          group: { region: 'eu' },
          buckets: [
            [0n, 1, 1],
            [10n, 1, 1],
          ],
        },
      ]);
      // Groups order by tag name, whatever the group_by order: host first, then region.
      expect(await run(Aggregator.MAX, { groupBy: ['region', 'host'] })).toEqual([
        {
          group: { host: 'a', region: '' },
          buckets: [
            [0n, 2, 3],
            [10n, 1, 10],
            [20n, 1, -4],
          ],
        },
        { group: { host: 'a', region: 'eu' }, buckets: [[0n, 1, 5]] },
        { group: { host: 'b', region: '' }, buckets: [[0n, 3, 7]] },
        { group: { host: 'b', region: 'eu' }, buckets: [[10n, 1, 6]] },
      ]);
      expect(await run(Aggregator.FIRST, { groupBy: ['zone'] })).toEqual([
        {
          group: { zone: '' },
          buckets: [
            [0n, 6, 1],
            [10n, 2, 10],
            [20n, 1, -4],
          ],
        },
      ]);
    });

    it('orders groups by "name=value" bytes', async () => {
      await basic.write(
        pt('gord', { k: '😀' }, 1, 1),
        pt('gord', { k: '\uffff' }, 1, 2),
        pt('gord', { k: 'b' }, 1, 3),
        pt('gord', { k: 'a' }, 1, 4),
        pt('gord', { k: 'a b' }, 1, 5),
      );
      const groups = await agg.aggregate('gord', 0n, 10n, 10n, Aggregator.SUM, { groupBy: ['k'] });
      expect(groups.map((g) => g.group.k)).toEqual(['a', 'a b', 'b', '\uffff', '😀']);
    });

    it('accepts exactly the maximum number of buckets, and percentile outside 0..100 for other aggregators', async () => {
      await agg.aggregate('agg', 0n, BigInt(MAX_BUCKETS), 1n, Aggregator.COUNT);
      await agg.aggregate('agg', -5n, BigInt(MAX_BUCKETS) * 10n - 15n, 10n, Aggregator.COUNT);
      expect(await run(Aggregator.SUM, { percentile: 150 })).toEqual(
        whole([
          [0n, 6, 22],
          [10n, 2, 16],
          [20n, 1, -4],
        ]),
      );
    });

    it('rejects bad arguments with INVALID_ARGUMENT naming the field', async () => {
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => agg.aggregate('agg', 5n, 5n, 1n, Aggregator.SUM), /start_ns/],
        [() => agg.aggregate('agg', 6n, 5n, 1n, Aggregator.SUM), /start_ns/],
        [() => agg.aggregate('agg', 0n, 5n, 0n, Aggregator.SUM), /bucket_ns/],
        [() => agg.aggregate('agg', 0n, 5n, -1n, Aggregator.SUM), /bucket_ns/],
        [() => agg.aggregate('agg', 0n, BigInt(MAX_BUCKETS) + 1n, 1n, Aggregator.SUM), /100000/],
        [() => agg.aggregate('agg', -1n, BigInt(MAX_BUCKETS) * 10n, 10n, Aggregator.SUM), /100000/],
        [() => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.UNSPECIFIED), /aggregator/],
        [() => agg.aggregate('agg', 0n, 5n, 1n, 99 as Aggregator), /aggregator/],
        [() => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.PERCENTILE, { percentile: -1 }), /percentile/],
        [() => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.PERCENTILE, { percentile: 100.5 }), /percentile/],
        [
          () => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.PERCENTILE, { percentile: Number.NaN }),
          /percentile/,
        ],
        [
          () =>
            agg.aggregate('agg', 0n, 5n, 1n, Aggregator.PERCENTILE, { percentile: Number.POSITIVE_INFINITY }),
          /percentile/,
        ],
        [
          () =>
            agg.aggregate('agg', 0n, 5n, 1n, Aggregator.SUM, {
              groupBy: Array.from({ length: 9 }, (_, i) => `g${i}`),
            }),
          /group_by.*8/,
        ],
        [
          () => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.SUM, { groupBy: ['a', 'b', 'a'] }),
          /group_by\[2\]/,
        ],
        [() => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.SUM, { groupBy: [''] }), /group_by\[0\]/],
        [() => agg.aggregate('', 0n, 5n, 1n, Aggregator.SUM), /selector\.series/],
        [() => agg.aggregate('agg', 0n, 5n, 1n, Aggregator.SUM, { tags: { 'a\nb': '' } }), /selector\.tags/],
      ];
      for (const [call, message] of cases) {
        const err = await expectCode(call, Code.InvalidArgument);
        expect(err.rawMessage).toMatch(message);
      }
      const impl = handle.get(TimeSeriesAggregation)!;
      const noSelector = () =>
        impl.aggregate(
          create(AggregateRequestSchema, {
            namespace,
            startNs: 0n,
            endNs: 1n,
            bucketNs: 1n,
            aggregator: Aggregator.SUM,
          }),
          ctx,
        );
      expect((await expectCode(noSelector, Code.InvalidArgument)).rawMessage).toMatch(/selector/);
      // Eight distinct names are fine.
      await agg.aggregate('agg', 0n, 5n, 1n, Aggregator.SUM, {
        groupBy: Array.from({ length: 8 }, (_, i) => `g${i}`),
      });
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = timeSeriesAggregation(other.get(TimeSeriesAggregation)!, ns);
        expect(await theirs.aggregate('agg', 0n, 30n, 10n, Aggregator.COUNT)).toEqual([]);
      } finally {
        await other.close();
      }
    });
  });
}
