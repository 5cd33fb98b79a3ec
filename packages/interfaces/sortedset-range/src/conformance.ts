import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { basicOf } from '@prism/sortedset-basic/conformance';
import {
  CountByScoreRequestSchema,
  MAX_RANGE_ENTRIES,
  RangeByRankRequestSchema,
  RangeByScoreRequestSchema,
  ScoreBoundSchema,
  SortedSetRange,
  type SortedSetRangeImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A score bound: a number is inclusive, `{ x: n }` exclusive. */
export type Bound = number | { x: number };
const bound = (b: Bound | undefined) =>
  b === undefined
    ? undefined
    : typeof b === 'number'
      ? create(ScoreBoundSchema, { value: b })
      : create(ScoreBoundSchema, { value: b.x, exclusive: true });

/** A member as latin1 text (one char per byte), so tests can name any byte, e.g. '\xff'. */
export const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const entriesOf = (entries: readonly { member?: Uint8Array; score?: number }[] | undefined) =>
  (entries ?? []).map((e): [string, number] => [
    Buffer.from(e.member ?? []).toString('latin1'),
    e.score ?? 0,
  ]);

/** Small typed client over a sortedset_range implementation; entries come back as [latin1 member, score]. */
export function sortedSetRange(impl: SortedSetRangeImpl, namespace: string) {
  return {
    byScore: async (
      key: string,
      min?: Bound,
      max?: Bound,
      opts: { reverse?: boolean; offset?: number; limit?: number } = {},
    ) => {
      const res = await impl.rangeByScore(
        create(RangeByScoreRequestSchema, { namespace, key, min: bound(min), max: bound(max), ...opts }),
        ctx,
      );
      return { entries: entriesOf(res.entries), more: res.more ?? false };
    },
    byRank: async (key: string, start: number | bigint, stop: number | bigint, reverse = false) => {
      const res = await impl.rangeByRank(
        create(RangeByRankRequestSchema, {
          namespace,
          key,
          start: BigInt(start),
          stop: BigInt(stop),
          reverse,
        }),
        ctx,
      );
      return { entries: entriesOf(res.entries), more: res.more ?? false };
    },
    count: async (key: string, min?: Bound, max?: Bound) =>
      Number(
        (
          await impl.countByScore(
            create(CountByScoreRequestSchema, { namespace, key, min: bound(min), max: bound(max) }),
            ctx,
          )
        ).count ?? 0,
      ),
  };
}

const INF = Number.POSITIVE_INFINITY;

/** The fixture every ordering test reads: ties at 2 ordered by unsigned member bytes, and ±inf. */
const FIXTURE: [string, number][] = [
  ['ninf', -INF],
  ['a', 1],
  ['b', 2],
  ['bb', 2],
  ['c', 2],
  ['\xff', 2],
  ['d', 3.5],
  ['e', 10],
  ['pinf', INF],
];
const members = (entries: [string, number][]) => entries.map(([m]) => m);

/**
 * The sortedset_range conformance suite: score and rank ranges, reverse order, offset/limit, the answer
 * limit, counts. Needs sortedset_basic on the same adapter to fill keys.
 */
export function describeSortedSetRangeConformance(label: string, factory: PluginFactory): void {
  describe(`sortedset_range conformance: ${label}`, () => {
    let handle: PluginHandle;
    let z: ReturnType<typeof basicOf>;
    let r: ReturnType<typeof sortedSetRange>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(SortedSetRange);
      if (!impl) throw new Error(`${label} does not implement sortedset_range`);
      r = sortedSetRange(impl, namespace);
      z = basicOf(handle, label, namespace);
      // Added in an order unrelated to the sorted order.
      await z.add(
        'fx',
        [...FIXTURE].reverse().map(([m, s]): [Uint8Array, number] => [latin1(m), s]),
      );
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('orders by score, ties by unsigned member bytes (a prefix first), with ±inf at the ends', async () => {
      expect(await r.byScore('fx')).toEqual({ entries: FIXTURE, more: false });
      expect(await r.byRank('fx', 0, -1)).toEqual({ entries: FIXTURE, more: false });
    });

    it('honours inclusive and exclusive score bounds', async () => {
      expect(members((await r.byScore('fx', 2, 3.5)).entries)).toEqual(['b', 'bb', 'c', '\xff', 'd']);
      expect(members((await r.byScore('fx', { x: 2 }, 10)).entries)).toEqual(['d', 'e']);
      expect(members((await r.byScore('fx', 2, { x: 10 })).entries)).toEqual(['b', 'bb', 'c', '\xff', 'd']);
      expect(members((await r.byScore('fx', { x: 1 }, { x: 3.5 })).entries)).toEqual([
        'b',
        'bb',
        'c',
        '\xff',
      ]);
      expect(members((await r.byScore('fx', 2, 2)).entries)).toEqual(['b', 'bb', 'c', '\xff']);
      expect((await r.byScore('fx', { x: 2 }, 2)).entries).toEqual([]);
      expect((await r.byScore('fx', 2.5, 3)).entries).toEqual([]);
    });

    it('treats ±inf as ordinary bounds and unset bounds as unbounded', async () => {
      expect((await r.byScore('fx', -INF, INF)).entries).toEqual(FIXTURE);
      expect(members((await r.byScore('fx', { x: -INF }, { x: INF })).entries)).toEqual(
        members(FIXTURE.slice(1, -1)),
      );
      expect(members((await r.byScore('fx', INF, INF)).entries)).toEqual(['pinf']);
      expect(members((await r.byScore('fx', undefined, 1)).entries)).toEqual(['ninf', 'a']);
      expect(members((await r.byScore('fx', 10)).entries)).toEqual(['e', 'pinf']);
    });

    it('answers nothing when min > max, and for a missing key', async () => {
      expect(await r.byScore('fx', 5, 1)).toEqual({ entries: [], more: false });
      expect(await r.byScore('fx', INF, -INF)).toEqual({ entries: [], more: false });
      expect(await r.byScore('never')).toEqual({ entries: [], more: false });
      expect(await r.byRank('never', 0, -1)).toEqual({ entries: [], more: false });
      expect(await r.count('never')).toBe(0);
    });

    it('reverses the order with reverse=true, keeping min and max as they are', async () => {
      expect((await r.byScore('fx', undefined, undefined, { reverse: true })).entries).toEqual(
        [...FIXTURE].reverse(),
      );
      expect(members((await r.byScore('fx', 2, { x: 10 }, { reverse: true })).entries)).toEqual([
        'd',
        '\xff',
        'c',
        'bb',
        'b',
      ]);
      expect((await r.byScore('fx', 10, 2, { reverse: true })).entries).toEqual([]);
    });

    it('pages with offset and limit, saying whether more entries follow', async () => {
      expect(await r.byScore('fx', undefined, undefined, { offset: 2, limit: 3 })).toEqual({
        entries: FIXTURE.slice(2, 5),
        more: true,
      });
      expect(await r.byScore('fx', undefined, undefined, { offset: 6, limit: 3 })).toEqual({
        entries: FIXTURE.slice(6),
        more: false,
      });
      expect(await r.byScore('fx', undefined, undefined, { offset: 6, limit: 4 })).toEqual({
        entries: FIXTURE.slice(6),
        more: false,
      });
      expect(await r.byScore('fx', undefined, undefined, { offset: 9, limit: 1 })).toEqual({
        entries: [],
        more: false,
      });
      expect(await r.byScore('fx', undefined, undefined, { offset: 100 })).toEqual({
        entries: [],
        more: false,
      });
      // Offset counts in answer order and within the interval.
      expect(await r.byScore('fx', 2, 10, { reverse: true, offset: 1, limit: 2 })).toEqual({
        entries: [
          ['d', 3.5],
          ['\xff', 2],
        ],
        more: true,
      });
      expect(members((await r.byScore('fx', 2, 2, { offset: 3 })).entries)).toEqual(['\xff']);
    });

    it('ranges by rank with Redis ZRANGE semantics: inclusive, negative from the end, clamped', async () => {
      expect(members((await r.byRank('fx', 0, 0)).entries)).toEqual(['ninf']);
      expect((await r.byRank('fx', 1, 3)).entries).toEqual(FIXTURE.slice(1, 4));
      expect(members((await r.byRank('fx', -2, -1)).entries)).toEqual(['e', 'pinf']);
      expect((await r.byRank('fx', -100, 100)).entries).toEqual(FIXTURE);
      expect((await r.byRank('fx', 3, 2)).entries).toEqual([]);
      expect((await r.byRank('fx', 9, 20)).entries).toEqual([]);
      expect((await r.byRank('fx', -1, -2)).entries).toEqual([]);
      expect((await r.byRank('fx', 0, -100)).entries).toEqual([]);
      expect(members((await r.byRank('fx', 0, 1, true)).entries)).toEqual(['pinf', 'e']);
      expect(members((await r.byRank('fx', -2, -1, true)).entries)).toEqual(['a', 'ninf']);
      expect((await r.byRank('fx', 0, -1, true)).entries).toEqual([...FIXTURE].reverse());
    });

    it('counts members within score bounds', async () => {
      expect(await r.count('fx')).toBe(FIXTURE.length);
      expect(await r.count('fx', 2, 2)).toBe(4);
      expect(await r.count('fx', { x: 2 }, INF)).toBe(3);
      expect(await r.count('fx', { x: -INF }, { x: INF })).toBe(FIXTURE.length - 2);
      expect(await r.count('fx', 3, 1)).toBe(0);
    });

    it('moves a member when its score changes and forgets removed members', async () => {
      await z.add('moving', [
        ['x', 1],
        ['y', 2],
        ['z', 3],
      ]);
      await z.add('moving', [['x', 5]]);
      expect((await r.byScore('moving')).entries).toEqual([
        ['y', 2],
        ['z', 3],
        ['x', 5],
      ]);
      await z.add('moving', [['y', 1]], { incr: true });
      expect(members((await r.byScore('moving')).entries)).toEqual(['y', 'z', 'x']);
      expect((await r.byScore('moving', 2, 3)).entries).toEqual([
        ['y', 3],
        ['z', 3],
      ]);
      await z.remove('moving', 'z');
      expect(members((await r.byRank('moving', 0, -1)).entries)).toEqual(['y', 'x']);
      expect(await r.count('moving')).toBe(2);
    });

    it(`answers at most ${MAX_RANGE_ENTRIES} entries and says more are there`, async () => {
      const n = MAX_RANGE_ENTRIES + 5;
      const big = Array.from({ length: n }, (_, i): [string, number] => [
        `m${String(i).padStart(6, '0')}`,
        i,
      ]);
      await z.add('big', big);
      const all = await r.byScore('big');
      expect(all.entries).toHaveLength(MAX_RANGE_ENTRIES);
      expect(all.more).toBe(true);
      expect(all.entries[MAX_RANGE_ENTRIES - 1]).toEqual(big[MAX_RANGE_ENTRIES - 1]);
      const rest = await r.byScore('big', undefined, undefined, { offset: MAX_RANGE_ENTRIES });
      expect(rest).toEqual({ entries: big.slice(MAX_RANGE_ENTRIES), more: false });
      const ranked = await r.byRank('big', 0, -1);
      expect(ranked.entries).toHaveLength(MAX_RANGE_ENTRIES);
      expect(ranked.more).toBe(true);
      expect(ranked.entries[0]).toEqual(big[0]);
      expect(await r.byRank('big', MAX_RANGE_ENTRIES, -1)).toEqual({
        entries: big.slice(MAX_RANGE_ENTRIES),
        more: false,
      });
      const reversed = await r.byRank('big', 0, -1, true);
      expect(reversed.entries[0]).toEqual(big[n - 1]);
      expect(reversed.more).toBe(true);
      expect(await r.byRank('big', 5, MAX_RANGE_ENTRIES + 4)).toMatchObject({ more: false });
      expect(await r.count('big')).toBe(n);
    });

    it('stays ordered under concurrent score updates', async () => {
      await z.add(
        'busy',
        Array.from({ length: 10 }, (_, i): [string, number] => [`p${i}`, 0]),
      );
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => z.add('busy', [[`p${i % 10}`, i % 7]], { incr: true })),
      );
      const { entries } = await r.byScore('busy');
      expect(entries).toHaveLength(10);
      let total = 0;
      for (let i = 0; i < entries.length; i++) {
        total += entries[i]![1];
        if (i > 0) {
          const [pm, ps] = entries[i - 1]!;
          const [m, s] = entries[i]!;
          expect(ps < s || (ps === s && pm < m)).toBe(true);
        }
      }
      expect(total).toBe(Array.from({ length: 100 }, (_, i) => i % 7).reduce((a, b) => a + b, 0));
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
      let err = await expectCode(() => r.byScore('fx', Number.NaN), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/min\.value/);
      err = await expectCode(() => r.byScore('fx', 1, { x: Number.NaN }), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/max\.value/);
      err = await expectCode(() => r.count('fx', Number.NaN), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/min\.value/);
      err = await expectCode(
        () => r.byScore('fx', undefined, undefined, { limit: MAX_RANGE_ENTRIES + 1 }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/limit/);
      err = await expectCode(() => r.byRank('fx', 2n ** 62n, -1), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/start/);
      err = await expectCode(() => r.byRank('fx', 0, -(2n ** 62n)), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/stop/);
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        await expectCode(() => r.byScore(key), Code.InvalidArgument);
        await expectCode(() => r.byRank(key, 0, -1), Code.InvalidArgument);
        await expectCode(() => r.count(key), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = sortedSetRange(other.get(SortedSetRange)!, ns);
        expect(await theirs.byScore('fx')).toEqual({ entries: [], more: false });
        expect(await theirs.byRank('fx', 0, -1)).toEqual({ entries: [], more: false });
        expect(await theirs.count('fx')).toBe(0);
        await basicOf(other, label, ns).add('fx', [['theirs', 0]]);
        expect((await r.byScore('fx')).entries).toEqual(FIXTURE);
      } finally {
        await other.close();
      }
    });
  });
}
