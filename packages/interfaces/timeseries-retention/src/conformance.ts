import { create } from '@bufbuild/protobuf';
import { afterAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { Aggregator, TimeSeriesAggregation } from '@prism/timeseries-aggregation';
import { timeSeriesAggregation } from '@prism/timeseries-aggregation/conformance';
import { ALL_TIME, basicOf, pt } from '@prism/timeseries-basic/conformance';
import { Fill, TimeSeriesInterpolation } from '@prism/timeseries-interpolation';
import { timeSeriesInterpolation } from '@prism/timeseries-interpolation/conformance';
import {
  GetRetentionRequestSchema,
  MAX_RETENTION_MS,
  MIN_RETENTION_MS,
  SetRetentionRequestSchema,
  TimeSeriesRetention,
  type TimeSeriesRetentionImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a timeseries_retention implementation. */
export function timeSeriesRetention(impl: TimeSeriesRetentionImpl, namespace: string) {
  return {
    /** Sets the period; answers dropped_partitions. */
    set: async (retentionMs: bigint | number) =>
      Number(
        (
          await impl.setRetention(
            create(SetRetentionRequestSchema, { namespace, retentionMs: BigInt(retentionMs) }),
            ctx,
          )
        ).droppedPartitions ?? 0n,
      ),
    get: async () => {
      const res = await impl.getRetention(create(GetRetentionRequestSchema, { namespace }), ctx);
      return { retentionMs: res.retentionMs ?? 0n, enforcement: res.enforcement ?? '' };
    },
  };
}

const MS = 1_000_000n;
const HOUR_MS = 3_600_000;
/** A timestamp `agoMs` milliseconds before now, in ns. */
export const nsAgo = (agoMs: number): bigint => BigInt(Date.now() - agoMs) * MS;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the retention suite may also test: the other reads, when the backend declares them. */
export interface TimeSeriesRetentionSuiteOptions {
  /** The backend declares timeseries_aggregation: Aggregate must not see aged-out points either. */
  aggregation?: boolean;
  /** The backend declares timeseries_interpolation: nor Interpolate, in range or as a lookback neighbour. */
  interpolation?: boolean;
}

/**
 * The timeseries_retention conformance suite: the period's bounds, Get after Set, older points invisible
 * at once and removed (they do not come back when the period grows), writes older than the period rejected,
 * points ageing out while the suite watches (about 2 s), and namespace isolation. Timestamps are relative to
 * Date.now(), because the shortest period is a minute.
 */
export function describeTimeSeriesRetentionConformance(
  label: string,
  factory: PluginFactory,
  options: TimeSeriesRetentionSuiteOptions = {},
): void {
  describe(`timeseries_retention conformance: ${label}`, () => {
    const handles: PluginHandle[] = [];
    const [MIN, MAX] = ALL_TIME;

    /** A fresh namespace per test: retention is per namespace and the tests set different periods. */
    const open = async (tag: string) => {
      const namespace = `${uniqueNamespace(label)}-${tag}`;
      const handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      handles.push(handle);
      const impl = handle.get(TimeSeriesRetention);
      if (!impl) throw new Error(`${label} does not implement timeseries_retention`);
      return {
        namespace,
        handle,
        retention: timeSeriesRetention(impl, namespace),
        basic: basicOf(handle, label, namespace),
      };
    };

    afterAll(async () => {
      for (const h of handles) await h.close();
    });

    it('keeps points forever by default and reports how it enforces a period', async () => {
      const { retention, basic } = await open('default');
      const got = await retention.get();
      expect(got.retentionMs).toBe(0n);
      expect(got.enforcement.length).toBeGreaterThan(0);
      await basic.write(pt('old', {}, -(10n ** 18n), 1), pt('old', {}, 0, 2), pt('old', {}, nsAgo(1000), 3));
      expect((await basic.query('old', MIN, MAX)).map((p) => p.value)).toEqual([1, 2, 3]);
    });

    it('answers the period it was set to, and 0 again after keep-forever', async () => {
      const { retention } = await open('get');
      expect(await retention.set(HOUR_MS)).toBeGreaterThanOrEqual(0);
      expect((await retention.get()).retentionMs).toBe(BigInt(HOUR_MS));
      await retention.set(MIN_RETENTION_MS);
      expect((await retention.get()).retentionMs).toBe(MIN_RETENTION_MS);
      await retention.set(MAX_RETENTION_MS);
      expect((await retention.get()).retentionMs).toBe(MAX_RETENTION_MS);
      await retention.set(0);
      const got = await retention.get();
      expect(got.retentionMs).toBe(0n);
      expect(got.enforcement.length).toBeGreaterThan(0);
    });

    it('hides and removes points older than the new period at once; they stay gone when it grows', async () => {
      const { retention, basic } = await open('shorten');
      const old = [
        pt('cpu', { host: 'a' }, nsAgo(2 * HOUR_MS), 1),
        pt('cpu', { host: 'b' }, nsAgo(3 * 24 * HOUR_MS), 2),
      ];
      const fresh = [
        pt('cpu', { host: 'a' }, nsAgo(10_000), 3),
        pt('cpu', { host: 'a' }, nsAgo(30 * 60_000), 4),
      ];
      await basic.write(...old, ...fresh, pt('cpu', {}, 0, 5));
      expect(await basic.query('cpu', MIN, MAX)).toHaveLength(5);
      const dropped = await retention.set(HOUR_MS);
      expect(dropped).toBeGreaterThanOrEqual(0);
      expect((await basic.query('cpu', MIN, MAX)).map((p) => p.value)).toEqual([4, 3]);
      expect(await basic.query('cpu', MIN, nsAgo(HOUR_MS + 60_000))).toEqual([]);
      expect(await basic.query('cpu', MIN, MAX, { tags: { host: 'b' } })).toEqual([]);
      // Growing the period again does not bring removed points back.
      await retention.set(0);
      expect((await basic.query('cpu', MIN, MAX)).map((p) => p.value)).toEqual([4, 3]);
    });

    it('rejects writes older than the period with INVALID_ARGUMENT naming the point, storing none', async () => {
      const { retention, basic } = await open('reject');
      await retention.set(HOUR_MS);
      const ok = pt('w', {}, nsAgo(60_000), 1);
      const err = await expectCode(
        () => basic.write(ok, pt('w', {}, nsAgo(30_000), 2), pt('w', {}, nsAgo(2 * HOUR_MS), 3)),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/points\[2\]\.timestamp_ns/);
      await expectCode(() => basic.write(pt('w', {}, 0, 4)), Code.InvalidArgument);
      await expectCode(() => basic.write(pt('w', {}, -(2n ** 63n), 4)), Code.InvalidArgument);
      expect(await basic.query('w', MIN, MAX)).toEqual([]);
      expect(await basic.write(ok, pt('w', {}, nsAgo(59 * 60_000), 5), pt('w', {}, nsAgo(-60_000), 6))).toBe(
        3,
      );
      expect((await basic.query('w', MIN, MAX)).map((p) => p.value)).toEqual([5, 1, 6]);
      // Keep-forever accepts old points again.
      await retention.set(0);
      expect(await basic.write(pt('w', {}, 0, 7))).toBe(1);
      expect((await basic.query('w', MIN, MAX)).map((p) => p.value)).toEqual([7, 5, 1, 6]);
    });

    it('stops returning points as they age past the period', async () => {
      const { retention, basic } = await open('age');
      await retention.set(MIN_RETENTION_MS);
      // 59 s old now: accepted and visible; 2 s later it is older than the one-minute period.
      await basic.write(pt('age', {}, nsAgo(59_000), 1), pt('age', {}, nsAgo(1_000), 2));
      expect((await basic.query('age', MIN, MAX)).map((p) => p.value)).toEqual([1, 2]);
      await sleep(2_000);
      expect((await basic.query('age', MIN, MAX)).map((p) => p.value)).toEqual([2]);
    });

    it('rejects periods outside 0 or one minute..100 years with INVALID_ARGUMENT', async () => {
      const { retention } = await open('bounds');
      for (const bad of [1n, MIN_RETENTION_MS - 1n, MAX_RETENTION_MS + 1n, 2n ** 64n - 1n]) {
        const err = await expectCode(() => retention.set(bad), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/retention_ms/);
      }
      expect((await retention.get()).retentionMs).toBe(0n);
    });

    // Only for the reads the backend declares (an undeclared one answers UNIMPLEMENTED elsewhere).
    const reads = (['aggregation', 'interpolation'] as const).filter((f) => options[f]);
    for (const flavour of reads)
      it(`hides aged-out points from timeseries_${flavour} too`, async () => {
        const { namespace, handle, retention, basic } = await open(flavour);
        const oldNs = nsAgo(2 * HOUR_MS);
        const freshNs = nsAgo(10 * 60_000);
        await basic.write(pt('r', { k: 'v' }, oldNs, 1), pt('r', { k: 'v' }, freshNs, 2));
        await retention.set(HOUR_MS);
        if (flavour === 'aggregation') {
          const agg = timeSeriesAggregation(handle.get(TimeSeriesAggregation)!, namespace);
          const day = 86_400_000_000_000n;
          const groups = await agg.aggregate('r', oldNs - day, freshNs + day, day, Aggregator.COUNT);
          expect(groups.flatMap((g) => g.buckets).reduce((n, b) => n + b[1], 0)).toBe(1);
          const sums = await agg.aggregate('r', oldNs - day, freshNs + day, day, Aggregator.SUM);
          expect(sums.flatMap((g) => g.buckets).reduce((n, b) => n + b[2], 0)).toBe(2);
        } else {
          const ip = timeSeriesInterpolation(handle.get(TimeSeriesInterpolation)!, namespace);
          const between = nsAgo(30 * 60_000); // after the aged-out point, before the fresh one
          const later = nsAgo(60_000);
          expect(await ip.interpolate('r', { k: 'v' }, between, between + 1n, 1n, Fill.PREVIOUS)).toEqual([
            [between, null],
          ]);
          expect(await ip.interpolate('r', { k: 'v' }, between, between + 1n, 1n, Fill.LINEAR)).toEqual([
            [between, null],
          ]);
          expect(await ip.interpolate('r', { k: 'v' }, oldNs, oldNs + 1n, 1n, Fill.NULL)).toEqual([
            [oldNs, null],
          ]);
          expect(await ip.interpolate('r', { k: 'v' }, later, later + 1n, 1n, Fill.PREVIOUS)).toEqual([
            [later, 2],
          ]);
        }
      });

    it('keeps each namespace its own period', async () => {
      const a = await open('iso-a');
      const b = await open('iso-b');
      await b.basic.write(pt('iso', {}, nsAgo(2 * HOUR_MS), 1));
      await a.basic.write(pt('iso', {}, nsAgo(2 * HOUR_MS), 1));
      await a.retention.set(HOUR_MS);
      expect((await b.retention.get()).retentionMs).toBe(0n);
      expect(await a.basic.query('iso', MIN, MAX)).toEqual([]);
      expect(await b.basic.query('iso', MIN, MAX)).toHaveLength(1);
      expect(await b.basic.write(pt('iso', {}, nsAgo(3 * HOUR_MS), 2))).toBe(1);
    });
  });
}
