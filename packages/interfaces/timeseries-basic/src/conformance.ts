import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  MAX_BATCH_SIZE,
  MAX_POINTS_PER_WRITE,
  PointSchema,
  QueryRequestSchema,
  SeriesSelectorSchema,
  type Tags,
  TimeSeriesBasic,
  type TimeSeriesBasicImpl,
  WriteRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A point as the suites write and read it: plain fields, tags always present. */
export interface TestPoint {
  series: string;
  tags: Record<string, string>;
  timestampNs: bigint;
  value: number;
}

/** Builds a {@link TestPoint}; `ts` may be a number for small timestamps. */
export const pt = (series: string, tags: Tags, ts: bigint | number, value: number): TestPoint => ({
  series,
  tags: { ...tags },
  timestampNs: BigInt(ts),
  value,
});

/** Query options of {@link timeSeriesBasic}. */
export interface QueryOptions {
  tags?: Tags;
  limit?: number;
  batchSize?: number;
}

const plain = (p: {
  series?: string;
  tags?: { [name: string]: string };
  timestampNs?: bigint;
  value?: number;
}): TestPoint => ({
  series: p.series ?? '',
  tags: { ...(p.tags ?? {}) },
  timestampNs: p.timestampNs ?? 0n,
  value: p.value ?? 0,
});

/** Small typed client over a timeseries_basic implementation, used by this and the other time-series suites. */
export function timeSeriesBasic(impl: TimeSeriesBasicImpl, namespace: string) {
  const batches = async (series: string, startNs: bigint, endNs: bigint, opts: QueryOptions = {}) => {
    const out: TestPoint[][] = [];
    const stream = impl.query(
      create(QueryRequestSchema, {
        namespace,
        selector: create(SeriesSelectorSchema, { series, tags: { ...(opts.tags ?? {}) } }),
        startNs,
        endNs,
        limit: opts.limit ?? 0,
        batchSize: opts.batchSize ?? 0,
      }),
      ctx,
    );
    for await (const res of stream) out.push((res.points ?? []).map(plain));
    return out;
  };
  return {
    /** Writes points; answers `written`. */
    write: async (...points: TestPoint[]) =>
      Number(
        (
          await impl.write(
            create(WriteRequestSchema, { namespace, points: points.map((p) => create(PointSchema, p)) }),
            ctx,
          )
        ).written ?? 0,
      ),
    /** The batches of one Query. */
    batches,
    /** The points of one Query, flattened. */
    query: async (series: string, startNs: bigint, endNs: bigint, opts: QueryOptions = {}) =>
      (await batches(series, startNs, endNs, opts)).flat(),
  };
}

/** Opens the timeseries_basic implementation of a handle (the other time-series suites write with it). */
export function basicOf(handle: PluginHandle, label: string, namespace: string) {
  const impl = handle.get(TimeSeriesBasic);
  if (!impl) throw new Error(`${label} does not implement timeseries_basic (the time-series suites need it)`);
  return timeSeriesBasic(impl, namespace);
}

/** The widest query range: every int64 timestamp but the largest (end is exclusive). */
export const ALL_TIME: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];

/**
 * The timeseries_basic conformance suite: idempotent writes, subset tag matching, Query order (timestamp,
 * then tag set), nanosecond precision and negative timestamps, ranges, limits and batches, every input rule
 * with its field path, atomic batches, and namespace isolation.
 */
export function describeTimeSeriesBasicConformance(label: string, factory: PluginFactory): void {
  describe(`timeseries_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let ts: ReturnType<typeof timeSeriesBasic>;
    const namespace = uniqueNamespace(label);
    const [MIN, MAX] = ALL_TIME;
    const all = (series: string, opts?: QueryOptions) => ts.query(series, MIN, MAX, opts);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(TimeSeriesBasic);
      if (!impl) throw new Error(`${label} does not implement timeseries_basic`);
      ts = timeSeriesBasic(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('writes points and reads them back ordered by timestamp', async () => {
      const points = [
        pt('cpu', { host: 'a' }, 30, 3.5),
        pt('cpu', { host: 'a' }, 10, 1),
        pt('cpu', { host: 'a' }, 20, -2.25),
      ];
      expect(await ts.write(...points)).toBe(3);
      expect(await all('cpu')).toEqual([points[1], points[2], points[0]]);
    });

    it('stores one point per identity: a rewrite keeps the later value, within a batch too', async () => {
      expect(await ts.write(pt('idem', { k: 'v' }, 5, 1), pt('idem', { k: 'v' }, 6, 2))).toBe(2);
      expect(await ts.write(pt('idem', { k: 'v' }, 5, 10))).toBe(1);
      expect(await all('idem')).toEqual([pt('idem', { k: 'v' }, 5, 10), pt('idem', { k: 'v' }, 6, 2)]);
      // The same identity twice in one batch counts twice and stores the later value.
      expect(await ts.write(pt('idem', { k: 'v' }, 7, 1), pt('idem', { k: 'v' }, 7, 2))).toBe(2);
      expect(await all('idem')).toEqual([
        pt('idem', { k: 'v' }, 5, 10),
        pt('idem', { k: 'v' }, 6, 2),
        pt('idem', { k: 'v' }, 7, 2),
      ]);
      // Tag order in the request does not matter: {a, b} and {b, a} are one tag set.
      await ts.write(pt('idem2', { a: '1', b: '2' }, 1, 1));
      await ts.write(pt('idem2', { b: '2', a: '1' }, 1, 5));
      expect(await all('idem2')).toEqual([pt('idem2', { a: '1', b: '2' }, 1, 5)]);
    });

    it('keeps points that differ in series, tags or timestamp apart', async () => {
      await ts.write(
        pt('apart', {}, 1, 1),
        pt('apart', { x: '' }, 1, 2),
        pt('apart', { x: 'y' }, 1, 3),
        pt('Apart', {}, 1, 4),
        pt('apart', {}, 2, 5),
        // Same "name=value" text, different tag sets: "a=b"→"c" and "a"→"b=c".
        pt('apart', { 'a=b': 'c' }, 3, 6),
        pt('apart', { a: 'b=c' }, 3, 7),
      );
      const got = await all('apart');
      expect(got).toHaveLength(6);
      expect(got.slice(0, 3)).toEqual([
        pt('apart', {}, 1, 1),
        pt('apart', { x: '' }, 1, 2),
        pt('apart', { x: 'y' }, 1, 3),
      ]);
      expect(got[3]).toEqual(pt('apart', {}, 2, 5));
      expect(
        got
          .slice(4)
          .map((p) => p.value)
          .sort(),
      ).toEqual([6, 7]);
      expect(await all('Apart')).toEqual([pt('Apart', {}, 1, 4)]);
    });

    it('matches tags as a subset: every given tag with its value, none = every tag set', async () => {
      const a = pt('sub', { host: 'a' }, 1, 1);
      const ae = pt('sub', { host: 'a', region: 'eu' }, 2, 2);
      const b = pt('sub', { host: 'b', region: 'eu' }, 3, 3);
      const none = pt('sub', {}, 4, 4);
      const empty = pt('sub', { host: '' }, 5, 5);
      await ts.write(a, ae, b, none, empty);
      expect(await all('sub')).toEqual([a, ae, b, none, empty]);
      expect(await all('sub', { tags: { host: 'a' } })).toEqual([a, ae]);
      expect(await all('sub', { tags: { region: 'eu' } })).toEqual([ae, b]);
      expect(await all('sub', { tags: { host: 'a', region: 'eu' } })).toEqual([ae]);
      expect(await all('sub', { tags: { host: '' } })).toEqual([empty]);
      expect(await all('sub', { tags: { host: 'c' } })).toEqual([]);
      expect(await all('sub', { tags: { zone: 'a' } })).toEqual([]);
      expect(await all('nothing-here')).toEqual([]);
    });

    it('orders equal timestamps by tag set: sorted by name, "name=value" pairs in byte order, prefix first', async () => {
      // Expected order: {} < {"a-":"0"} ('-' < '=') < {a:1} < {a:1,b:2} < {a:2} < {b:0} < {k:U+FFFF} < {k:😀}.
      const expected = [
        pt('ord', {}, 7, 0),
        pt('ord', { 'a-': '0' }, 7, 1),
        pt('ord', { a: '1' }, 7, 2),
        pt('ord', { b: '2', a: '1' }, 7, 3),
        pt('ord', { a: '2' }, 7, 4),
        pt('ord', { b: '0' }, 7, 5),
        pt('ord', { k: '\uffff' }, 7, 6),
        pt('ord', { k: '😀' }, 7, 7),
      ];
      await ts.write(...[...expected].reverse());
      await ts.write(pt('ord', { a: '9' }, 6, 8), pt('ord', {}, 8, 9));
      expect((await all('ord')).map((p) => p.value)).toEqual([8, 0, 1, 2, 3, 4, 5, 6, 7, 9]);
    });

    it('keeps nanosecond timestamps exactly, negative ones and the int64 extremes too', async () => {
      const stamps = [
        -(2n ** 63n),
        -123_456_789_012_345_678n,
        -1n,
        0n,
        1n,
        1_733_300_000_123_456_789n,
        1_733_300_000_123_456_790n,
        2n ** 63n - 2n,
      ];
      await ts.write(...stamps.map((s, i) => pt('ns', {}, s, i)));
      expect((await all('ns')).map((p) => p.timestampNs)).toEqual(stamps);
      expect(await ts.query('ns', 1_733_300_000_123_456_789n, 1_733_300_000_123_456_790n)).toEqual([
        pt('ns', {}, 1_733_300_000_123_456_789n, 5),
      ]);
      expect((await ts.query('ns', -123_456_789_012_345_678n, 0n)).map((p) => p.value)).toEqual([1, 2]);
    });

    it('keeps values exactly: signs, fractions and extremes', async () => {
      const values = [
        0,
        -1.5,
        0.1,
        1e-300,
        -1.7976931348623157e308,
        Number.MAX_VALUE,
        2 ** 53 + 2,
        123456.789,
      ];
      await ts.write(...values.map((v, i) => pt('vals', {}, i, v)));
      expect((await all('vals')).map((p) => p.value)).toEqual(values);
    });

    it('reads [start_ns, end_ns): start inclusive, end exclusive', async () => {
      await ts.write(...[10, 20, 30, 40].map((t) => pt('range', {}, t, t)));
      expect((await ts.query('range', 20n, 40n)).map((p) => p.value)).toEqual([20, 30]);
      expect((await ts.query('range', 19n, 41n)).map((p) => p.value)).toEqual([20, 30, 40]);
      expect((await ts.query('range', 21n, 30n)).map((p) => p.value)).toEqual([]);
      expect((await ts.query('range', 40n, 41n)).map((p) => p.value)).toEqual([40]);
    });

    it('keeps tag names and values with any characters intact', async () => {
      const tags = {
        'name with spaces': 'value, with = signs',
        ünïcödé: '日本語 😀',
        '=': '=',
        'quote"\\': '\'"\\',
        control: 'line\nbreak\ttab\u0001',
        empty: '',
      };
      await ts.write(pt('chars', tags, 1, 1));
      expect(await all('chars')).toEqual([pt('chars', tags, 1, 1)]);
      expect(await all('chars', { tags: { ünïcödé: '日本語 😀', '=': '=' } })).toEqual([
        pt('chars', tags, 1, 1),
      ]);
      await ts.write(pt('😀 series/with:odd.chars', {}, 1, 2));
      expect(await all('😀 series/with:odd.chars')).toEqual([pt('😀 series/with:odd.chars', {}, 1, 2)]);
    });

    it('answers at most `limit` points, the first in order; 0 means no limit', async () => {
      await ts.write(
        ...Array.from({ length: 20 }, (_, i) => pt('lim', { i: String(i % 2) }, Math.floor(i / 2), i)),
      );
      const full = await all('lim');
      expect(full).toHaveLength(20);
      expect(await all('lim', { limit: 5 })).toEqual(full.slice(0, 5));
      expect(await all('lim', { limit: 5, batchSize: 2 })).toEqual(full.slice(0, 5));
      expect(await all('lim', { limit: 100 })).toEqual(full);
      expect(await all('lim', { limit: 0 })).toEqual(full);
    });

    it('streams Query in non-empty batches of at most batch_size, each point once, in order', async () => {
      const points = Array.from({ length: 2500 }, (_, i) => pt('big', { g: String(i % 3) }, i * 1000, i));
      expect(await ts.write(...points)).toBe(2500);
      const small = await ts.batches('big', MIN, MAX, { batchSize: 7 });
      for (const b of small) {
        expect(b.length).toBeGreaterThan(0);
        expect(b.length).toBeLessThanOrEqual(7);
      }
      expect(small.flat()).toEqual(points);
      const defaults = await ts.batches('big', MIN, MAX);
      for (const b of defaults) expect(b.length).toBeLessThanOrEqual(1000);
      expect(defaults.length).toBeGreaterThanOrEqual(3);
      expect(defaults.flat()).toEqual(points);
      const one = await ts.batches('big', MIN, MAX, { batchSize: MAX_BATCH_SIZE });
      expect(one.flat()).toEqual(points);
      const empty = await ts.batches('big', -10n, 0n);
      expect(empty.flat()).toEqual([]);
    });

    it('accepts a Write of the maximum number of points', async () => {
      const points = Array.from({ length: MAX_POINTS_PER_WRITE }, (_, i) => pt('max', {}, i, i));
      expect(await ts.write(...points)).toBe(MAX_POINTS_PER_WRITE);
      expect(await ts.query('max', 9_990n, 20_000n, { batchSize: 3 })).toEqual(points.slice(9_990));
      expect(await all('max', { limit: 1 })).toEqual([points[0]]);
    });

    it('accepts names and tags right at the limits', async () => {
      const series = '😀'.repeat(256); // 256 characters (512 UTF-16 units)
      const tags: Record<string, string> = {};
      for (let i = 0; i < 31; i++) tags[`t${i}`] = String(i);
      tags['n'.repeat(256)] = 'é'.repeat(512); // 1024 bytes
      await ts.write(pt(series, tags, 1, 1));
      expect(await all(series)).toEqual([pt(series, tags, 1, 1)]);
    });

    it('rejects each bad point with INVALID_ARGUMENT naming its path, and stores none of the batch', async () => {
      const ok = (i: number) => pt('bad', { n: String(i) }, i, i);
      const cases: [TestPoint, RegExp][] = [
        [pt('bad', {}, 1, Number.NaN), /points\[3\]\.value/],
        [pt('bad', {}, 1, Number.POSITIVE_INFINITY), /points\[3\]\.value/],
        [pt('bad', {}, 1, Number.NEGATIVE_INFINITY), /points\[3\]\.value/],
        [pt('', {}, 1, 1), /points\[3\]\.series/],
        [pt('x'.repeat(257), {}, 1, 1), /points\[3\]\.series.*256/],
        [pt('a\nb', {}, 1, 1), /points\[3\]\.series/],
        [pt('a\u0000b', {}, 1, 1), /points\[3\]\.series/],
        [pt('a\u0085b', {}, 1, 1), /points\[3\]\.series/],
        [
          pt('bad', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, ''])), 1, 1),
          /points\[3\]\.tags.*32/,
        ],
        [pt('bad', { '': 'v' }, 1, 1), /points\[3\]\.tags/],
        [pt('bad', { ['n'.repeat(257)]: 'v' }, 1, 1), /points\[3\]\.tags.*256/],
        [pt('bad', { 'a\tb': 'v' }, 1, 1), /points\[3\]\.tags/],
        [pt('bad', { k: 'é'.repeat(513) }, 1, 1), /points\[3\]\.tags.*1024/],
      ];
      for (const [bad, message] of cases) {
        const err = await expectCode(() => ts.write(ok(0), ok(1), ok(2), bad, ok(4)), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(message);
      }
      expect(await all('bad')).toEqual([]);
    });

    it('rejects an empty Write and one above the maximum number of points', async () => {
      const e1 = await expectCode(() => ts.write(), Code.InvalidArgument);
      expect(e1.rawMessage).toMatch(/points/);
      const many = Array.from({ length: MAX_POINTS_PER_WRITE + 1 }, (_, i) => pt('toomany', {}, i, i));
      const e2 = await expectCode(() => ts.write(...many), Code.InvalidArgument);
      expect(e2.rawMessage).toMatch(/10000/);
      expect(await all('toomany')).toEqual([]);
    });

    it('rejects bad Query arguments with INVALID_ARGUMENT naming the field', async () => {
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => ts.query('q', 5n, 5n), /start_ns/],
        [() => ts.query('q', 6n, 5n), /start_ns/],
        [() => ts.query('', 0n, 5n), /selector\.series/],
        [() => ts.query('a\nb', 0n, 5n), /selector\.series/],
        [() => ts.query('q', 0n, 5n, { tags: { '': 'x' } }), /selector\.tags/],
        [() => ts.query('q', 0n, 5n, { batchSize: MAX_BATCH_SIZE + 1 }), /batch_size/],
      ];
      for (const [call, message] of cases) {
        const err = await expectCode(call, Code.InvalidArgument);
        expect(err.rawMessage).toMatch(message);
      }
      const impl = handle.get(TimeSeriesBasic)!;
      const noSelector = async () => {
        for await (const _ of impl.query(
          create(QueryRequestSchema, { namespace, startNs: 0n, endNs: 1n }),
          ctx,
        ));
      };
      expect((await expectCode(noSelector, Code.InvalidArgument)).rawMessage).toMatch(/selector/);
    });

    it('stores every point of concurrent Writes, and one point per identity', async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, w) =>
          ts.write(...Array.from({ length: 50 }, (_, i) => pt('conc', { w: String(w) }, i, w * 100 + i))),
        ),
      );
      expect(await all('conc')).toHaveLength(500);
      await Promise.all(Array.from({ length: 10 }, (_, w) => ts.write(pt('conc1', {}, 1, w))));
      const one = await all('conc1');
      expect(one).toHaveLength(1);
      expect(one[0]!.value).toBeGreaterThanOrEqual(0);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = timeSeriesBasic(other.get(TimeSeriesBasic)!, ns);
        await ts.write(pt('shared', { k: 'v' }, 1, 1));
        expect(await theirs.query('shared', MIN, MAX)).toEqual([]);
        await theirs.write(pt('shared', { k: 'v' }, 1, 2), pt('shared', { k: 'v' }, 2, 3));
        expect(await all('shared')).toEqual([pt('shared', { k: 'v' }, 1, 1)]);
        expect(await theirs.query('shared', MIN, MAX)).toHaveLength(2);
      } finally {
        await other.close();
      }
    });
  });
}

/** Makes a selector message (for suites that call implementations directly). */
export const selector = (series: string, tags: Tags = {}) =>
  create(SeriesSelectorSchema, { series, tags: { ...tags } });
