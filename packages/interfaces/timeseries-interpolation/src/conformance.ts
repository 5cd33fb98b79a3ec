import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import type { Tags } from '@prism/timeseries-basic';
import { basicOf, pt } from '@prism/timeseries-basic/conformance';
import {
  Fill,
  InterpolateRequestSchema,
  interpolateSamples,
  MAX_SAMPLES,
  SAMPLE_BATCH_SIZE,
  TimeSeriesInterpolation,
  type TimeSeriesInterpolationImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A sample as the suite compares it: [timestamp_ns, value or null]. */
export type TestSample = [bigint, number | null];

/** Small typed client over a timeseries_interpolation implementation. */
export function timeSeriesInterpolation(impl: TimeSeriesInterpolationImpl, namespace: string) {
  const batches = async (
    series: string,
    tags: Tags,
    startNs: bigint,
    endNs: bigint,
    stepNs: bigint,
    fill: Fill,
  ) => {
    const out: TestSample[][] = [];
    const stream = impl.interpolate(
      create(InterpolateRequestSchema, {
        namespace,
        series,
        tags: { ...tags },
        startNs,
        endNs,
        stepNs,
        fill,
      }),
      ctx,
    );
    for await (const res of stream)
      out.push((res.samples ?? []).map((s): TestSample => [s.timestampNs ?? 0n, s.value ?? null]));
    return out;
  };
  return {
    /** The batches of one Interpolate. */
    batches,
    /** The samples of one Interpolate, flattened. */
    interpolate: async (...args: Parameters<typeof batches>) => (await batches(...args)).flat(),
  };
}

/**
 * The timeseries_interpolation conformance suite: FILL_PREVIOUS, FILL_LINEAR and FILL_NULL, lookback before
 * start_ns and lookahead after end_ns, exact tag-set instances, steps that do not divide the range,
 * nanosecond precision, many points (read in pages) answered as the reference does, the sample limit, and
 * every input rule.
 */
export function describeTimeSeriesInterpolationConformance(label: string, factory: PluginFactory): void {
  describe(`timeseries_interpolation conformance: ${label}`, () => {
    let handle: PluginHandle;
    let ip: ReturnType<typeof timeSeriesInterpolation>;
    let basic: ReturnType<typeof basicOf>;
    const namespace = uniqueNamespace(label);
    const room = { room: 'a' };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(TimeSeriesInterpolation);
      if (!impl) throw new Error(`${label} does not implement timeseries_interpolation`);
      ip = timeSeriesInterpolation(impl, namespace);
      basic = basicOf(handle, label, namespace);
      // The instance temp{room=a}: 4→0, 12→2, 20→10, 40→6, 60→26. Other instances and series around it
      // must not leak in (interpolation reads exactly one tag set).
      await basic.write(
        pt('temp', room, 4, 0),
        pt('temp', room, 12, 2),
        pt('temp', room, 20, 10),
        pt('temp', room, 40, 6),
        pt('temp', room, 60, 26),
        pt('temp', { room: 'a', floor: '1' }, 15, 100),
        pt('temp', { room: 'a', floor: '1' }, 1, 100),
        pt('temp', {}, 25, 100),
        pt('temp', { room: 'b' }, 30, 100),
        pt('other', room, 35, 100),
      );
    });
    afterAll(async () => {
      await handle?.close();
    });

    const temp = (startNs: bigint, endNs: bigint, stepNs: bigint, fill: Fill) =>
      ip.interpolate('temp', room, startNs, endNs, stepNs, fill);

    it('FILL_PREVIOUS takes the latest point before each sample, also from before start_ns', async () => {
      expect(await temp(10n, 50n, 5n, Fill.PREVIOUS)).toEqual([
        [10n, 0],
        [15n, 2],
        [20n, 10],
        [25n, 10],
        [30n, 10],
        [35n, 10],
        [40n, 6],
        [45n, 6],
      ]);
    });

    it('FILL_LINEAR interpolates between the neighbours, also outside [start_ns, end_ns)', async () => {
      expect(await temp(10n, 50n, 5n, Fill.LINEAR)).toEqual([
        [10n, 1.5],
        [15n, 5],
        [20n, 10],
        [25n, 9],
        [30n, 8],
        [35n, 7],
        [40n, 6],
        [45n, 11],
      ]);
    });

    it('FILL_NULL leaves samples without a point null', async () => {
      expect(await temp(10n, 50n, 5n, Fill.NULL)).toEqual([
        [10n, null],
        [15n, null],
        [20n, 10],
        [25n, null],
        [30n, null],
        [35n, null],
        [40n, 6],
        [45n, null],
      ]);
    });

    it('answers null where the needed neighbour is missing', async () => {
      expect(await temp(0n, 10n, 2n, Fill.PREVIOUS)).toEqual([
        [0n, null],
        [2n, null],
        [4n, 0],
        [6n, 0],
        [8n, 0],
      ]);
      expect(await temp(0n, 10n, 2n, Fill.LINEAR)).toEqual([
        [0n, null],
        [2n, null],
        [4n, 0],
        [6n, 0.5],
        [8n, 1],
      ]);
      expect(await temp(61n, 70n, 3n, Fill.LINEAR)).toEqual([
        [61n, null],
        [64n, null],
        [67n, null],
      ]);
      expect(await temp(61n, 70n, 3n, Fill.PREVIOUS)).toEqual([
        [61n, 26],
        [64n, 26],
        [67n, 26],
      ]);
      for (const fill of [Fill.PREVIOUS, Fill.LINEAR, Fill.NULL])
        expect(await ip.interpolate('temp', { room: 'nowhere' }, 0n, 30n, 10n, fill)).toEqual([
          [0n, null],
          [10n, null],
          [20n, null],
        ]);
    });

    it('reads exactly the given tag set, not a subset match', async () => {
      expect(await ip.interpolate('temp', {}, 20n, 30n, 5n, Fill.NULL)).toEqual([
        [20n, null],
        [25n, 100],
      ]);
      expect(await ip.interpolate('temp', { floor: '1', room: 'a' }, 0n, 20n, 5n, Fill.PREVIOUS)).toEqual([
        [0n, null],
        [5n, 100],
        [10n, 100],
        [15n, 100],
      ]);
    });

    it('stops before end_ns when step_ns does not divide the range; a point at end_ns is only a neighbour', async () => {
      expect(await temp(10n, 50n, 15n, Fill.NULL)).toEqual([
        [10n, null],
        [25n, null],
        [40n, 6],
      ]);
      expect(await temp(30n, 40n, 10n, Fill.LINEAR)).toEqual([[30n, 8]]);
      expect(await temp(12n, 13n, 100n, Fill.NULL)).toEqual([[12n, 2]]);
    });

    it('reaches far back and far ahead, with nanosecond precision and negative timestamps', async () => {
      const t = 1_733_300_000_123_456_789n;
      await basic.write(
        pt('far', {}, -(10n ** 18n), 5),
        pt('far', {}, 10n ** 18n, 7),
        pt('far', {}, t + 1n, 42),
        pt('far', {}, -3n, -1),
      );
      expect(await ip.interpolate('far', {}, -10n, 10n, 5n, Fill.PREVIOUS)).toEqual([
        [-10n, 5],
        [-5n, 5],
        [0n, -1],
        [5n, -1],
      ]);
      // 1 ns after -10^18 on the way to -3: 5 + (-6) * 1e-18, which is 5 in doubles.
      expect(
        await ip.interpolate('far', {}, -(10n ** 18n) + 1n, -(10n ** 18n) + 2n, 1n, Fill.LINEAR),
      ).toEqual([[-(10n ** 18n) + 1n, 5]]);
      expect(await ip.interpolate('far', {}, t, t + 3n, 1n, Fill.NULL)).toEqual([
        [t, null],
        [t + 1n, 42],
        [t + 2n, null],
      ]);
      expect(await ip.interpolate('far', {}, t, t + 3n, 1n, Fill.PREVIOUS)).toEqual([
        [t, 7],
        [t + 1n, 42],
        [t + 2n, 42],
      ]);
    });

    it('streams up to the maximum number of samples, in order', async () => {
      const batches = await ip.batches('temp', room, 0n, BigInt(MAX_SAMPLES), 1n, Fill.PREVIOUS);
      for (const b of batches) expect(b.length).toBeGreaterThan(0);
      const samples = batches.flat();
      expect(samples).toHaveLength(MAX_SAMPLES);
      expect(samples.every(([ts], i) => ts === BigInt(i))).toBe(true);
      expect(samples[3]).toEqual([3n, null]);
      expect(samples[59]).toEqual([59n, 6]);
      expect(samples[MAX_SAMPLES - 1]).toEqual([BigInt(MAX_SAMPLES - 1), 26]);
    });

    it('rejects bad arguments with INVALID_ARGUMENT naming the field', async () => {
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => temp(5n, 5n, 1n, Fill.NULL), /start_ns/],
        [() => temp(6n, 5n, 1n, Fill.NULL), /start_ns/],
        [() => temp(0n, 5n, 0n, Fill.NULL), /step_ns/],
        [() => temp(0n, 5n, -1n, Fill.NULL), /step_ns/],
        [() => temp(0n, BigInt(MAX_SAMPLES) + 1n, 1n, Fill.NULL), /100000/],
        [() => temp(0n, BigInt(MAX_SAMPLES) * 10n + 1n, 10n, Fill.NULL), /100000/],
        [() => temp(0n, 5n, 1n, Fill.UNSPECIFIED), /fill/],
        [() => temp(0n, 5n, 1n, 99 as Fill), /fill/],
        [() => ip.interpolate('', room, 0n, 5n, 1n, Fill.NULL), /series/],
        [() => ip.interpolate('a\u0000', room, 0n, 5n, 1n, Fill.NULL), /series/],
        [() => ip.interpolate('temp', { '': 'x' }, 0n, 5n, 1n, Fill.NULL), /tags/],
        [() => ip.interpolate('temp', { k: 'é'.repeat(513) }, 0n, 5n, 1n, Fill.NULL), /tags.*1024/],
      ];
      for (const [call, message] of cases) {
        const err = await expectCode(call, Code.InvalidArgument);
        expect(err.rawMessage).toMatch(message);
      }
    });

    it(`answers the reference over a range of many points, in batches of at most ${SAMPLE_BATCH_SIZE}`, async () => {
      // 2,500 points of one instance (more than one page of a backend that reads in pages), and another
      // instance at the same timestamps that must not leak in.
      const dense = Array.from({ length: 2500 }, (_, i) => ({
        timestampNs: BigInt(i * 10),
        value: (i * 37) % 101,
      }));
      await basic.write(
        ...dense.map((p) => pt('dense', room, p.timestampNs, p.value)),
        ...dense.map((p) => pt('dense', { room: 'a', floor: '1' }, p.timestampNs, -1)),
      );
      for (const [startNs, endNs, stepNs, fill] of [
        [-15n, 25_020n, 7n, Fill.LINEAR],
        [5n, 24_990n, 3n, Fill.PREVIOUS],
        [9_995n, 10_015n, 1n, Fill.NULL],
      ] as const) {
        const batches = await ip.batches('dense', room, startNs, endNs, stepNs, fill);
        for (const b of batches) expect(b.length).toBeLessThanOrEqual(SAMPLE_BATCH_SIZE);
        const before = dense.filter((p) => p.timestampNs < startNs).at(-1);
        const after = dense.find((p) => p.timestampNs >= endNs);
        const want = interpolateSamples(
          {
            points: dense.filter((p) => p.timestampNs >= startNs && p.timestampNs < endNs),
            ...(before ? { before } : {}),
            ...(after ? { after } : {}),
          },
          { startNs, endNs, stepNs, fill },
        );
        expect(batches.flat()).toEqual(want.map((s): TestSample => [s.timestampNs, s.value ?? null]));
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = timeSeriesInterpolation(other.get(TimeSeriesInterpolation)!, ns);
        expect(await theirs.interpolate('temp', room, 10n, 30n, 10n, Fill.PREVIOUS)).toEqual([
          [10n, null],
          [20n, null],
        ]);
      } finally {
        await other.close();
      }
    });
  });
}
