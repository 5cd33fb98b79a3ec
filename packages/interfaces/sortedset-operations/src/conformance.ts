import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { basicOf } from '@prism/sortedset-basic/conformance';
import {
  Aggregate,
  IntersectRequestSchema,
  IntersectStoreRequestSchema,
  MAX_RANGE_ENTRIES,
  MAX_SOURCE_KEYS,
  SortedSetOperations,
  type SortedSetOperationsImpl,
  UnionRequestSchema,
  UnionStoreRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const entriesOf = (entries: readonly { member?: Uint8Array; score?: number }[] | undefined) =>
  (entries ?? []).map((e): [string, number] => [text(e.member ?? new Uint8Array()), e.score ?? 0]);

/** Options of one operation: weights per key and the aggregate (default SUM). */
export interface CombineOptions {
  weights?: number[];
  aggregate?: Aggregate;
}

/** Small typed client over a sortedset_operations implementation; answers come as [latin1 member, score]. */
export function sortedSetOperations(impl: SortedSetOperationsImpl, namespace: string) {
  return {
    unionStore: async (destination: string, keys: string[], o: CombineOptions = {}) =>
      Number(
        (await impl.unionStore(create(UnionStoreRequestSchema, { namespace, destination, keys, ...o }), ctx))
          .count ?? 0,
      ),
    intersectStore: async (destination: string, keys: string[], o: CombineOptions = {}) =>
      Number(
        (
          await impl.intersectStore(
            create(IntersectStoreRequestSchema, { namespace, destination, keys, ...o }),
            ctx,
          )
        ).count ?? 0,
      ),
    union: async (keys: string[], o: CombineOptions & { limit?: number } = {}) => {
      const res = await impl.union(create(UnionRequestSchema, { namespace, keys, ...o }), ctx);
      return { entries: entriesOf(res.entries), more: res.more ?? false };
    },
    intersect: async (keys: string[], o: CombineOptions & { limit?: number } = {}) => {
      const res = await impl.intersect(create(IntersectRequestSchema, { namespace, keys, ...o }), ctx);
      return { entries: entriesOf(res.entries), more: res.more ?? false };
    },
  };
}

const INF = Number.POSITIVE_INFINITY;

/**
 * The sortedset_operations conformance suite: weighted union/intersection with SUM/MIN/MAX, stored or
 * answered. Needs sortedset_basic on the same adapter to fill and read keys.
 */
export function describeSortedSetOperationsConformance(label: string, factory: PluginFactory): void {
  describe(`sortedset_operations conformance: ${label}`, () => {
    let handle: PluginHandle;
    let z: ReturnType<typeof basicOf>;
    let o: ReturnType<typeof sortedSetOperations>;
    const namespace = uniqueNamespace(label);

    /** The whole content of a key, read back through Union of the key alone (sorted). */
    const contents = async (key: string) => (await o.union([key])).entries;
    /** Checks a stored key through sortedset_basic alone: cardinality and each score. */
    const expectStored = async (key: string, expected: [string, number][]) => {
      expect(await z.card(key)).toBe(expected.length);
      for (const [m, s] of expected) expect([m, await z.score(key, m)]).toEqual([m, s]);
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(SortedSetOperations);
      if (!impl) throw new Error(`${label} does not implement sortedset_operations`);
      o = sortedSetOperations(impl, namespace);
      z = basicOf(handle, label, namespace);
      await z.add('z1', [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      await z.add('z2', [
        ['b', 10],
        ['c', 20],
        ['d', 30],
      ]);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('stores the union with summed scores and answers its cardinality', async () => {
      expect(await o.unionStore('u', ['z1', 'z2'])).toBe(4);
      await expectStored('u', [
        ['a', 1],
        ['b', 12],
        ['c', 23],
        ['d', 30],
      ]);
      expect(await contents('u')).toEqual([
        ['a', 1],
        ['b', 12],
        ['c', 23],
        ['d', 30],
      ]);
    });

    it('stores the intersection', async () => {
      expect(await o.intersectStore('i', ['z1', 'z2'])).toBe(2);
      await expectStored('i', [
        ['b', 12],
        ['c', 23],
      ]);
    });

    it('multiplies each source by its weight, including negative and zero weights', async () => {
      expect(await o.unionStore('uw', ['z1', 'z2'], { weights: [2, -1] })).toBe(4);
      expect(await contents('uw')).toEqual([
        ['d', -30],
        ['c', -14],
        ['b', -6],
        ['a', 2],
      ]);
      expect(await o.intersectStore('iw', ['z1', 'z2'], { weights: [0, 1] })).toBe(2);
      await expectStored('iw', [
        ['b', 10],
        ['c', 20],
      ]);
      expect(await o.unionStore('single', ['z1'], { weights: [3] })).toBe(3);
      await expectStored('single', [
        ['a', 3],
        ['b', 6],
        ['c', 9],
      ]);
    });

    it('aggregates with MIN and MAX', async () => {
      await o.unionStore('umin', ['z1', 'z2'], { aggregate: Aggregate.MIN, weights: [5, 1] });
      await expectStored('umin', [
        ['a', 5],
        ['b', 10],
        ['c', 15],
        ['d', 30],
      ]);
      await o.unionStore('umax', ['z1', 'z2'], { aggregate: Aggregate.MAX, weights: [5, 1] });
      await expectStored('umax', [
        ['a', 5],
        ['b', 10],
        ['c', 20],
        ['d', 30],
      ]);
      await o.intersectStore('imin', ['z1', 'z2'], { aggregate: Aggregate.MIN });
      await expectStored('imin', [
        ['b', 2],
        ['c', 3],
      ]);
      await o.intersectStore('isum', ['z1', 'z2'], { aggregate: Aggregate.SUM });
      await expectStored('isum', [
        ['b', 12],
        ['c', 23],
      ]);
    });

    it('treats a missing source as empty: the union ignores it, the intersection is empty', async () => {
      expect(await o.unionStore('um', ['z1', 'missing'])).toBe(3);
      await expectStored('um', [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      expect(await o.intersectStore('im', ['z1', 'missing'])).toBe(0);
      expect(await z.card('im')).toBe(0);
      expect(await o.unionStore('nothing', ['missing', 'also-missing'])).toBe(0);
      expect(await z.card('nothing')).toBe(0);
    });

    it('replaces the destination, and an empty result deletes it', async () => {
      await z.add('dest', [
        ['old', 99],
        ['a', 100],
      ]);
      expect(await o.unionStore('dest', ['z2'])).toBe(3);
      await expectStored('dest', [
        ['b', 10],
        ['c', 20],
        ['d', 30],
      ]);
      expect(await z.score('dest', 'old')).toBeUndefined();
      expect(await o.intersectStore('dest', ['z1', 'missing'])).toBe(0);
      expect(await z.card('dest')).toBe(0);
      expect(await z.score('dest', 'b')).toBeUndefined();
    });

    it('may use the destination as a source, and a key given twice counts twice', async () => {
      await z.add('self', [
        ['x', 1],
        ['y', 2],
      ]);
      expect(await o.unionStore('self', ['self', 'z1'])).toBe(5);
      await expectStored('self', [
        ['x', 1],
        ['y', 2],
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      expect(await o.unionStore('twice', ['z1', 'z1'])).toBe(3);
      await expectStored('twice', [
        ['a', 2],
        ['b', 4],
        ['c', 6],
      ]);
      expect(
        await o.intersectStore('twice-i', ['z1', 'z1'], { aggregate: Aggregate.MAX, weights: [1, 2] }),
      ).toBe(3);
      await expectStored('twice-i', [
        ['a', 2],
        ['b', 4],
        ['c', 6],
      ]);
    });

    it('counts NaN products and sums as 0, like Redis (0 × inf, +inf + -inf)', async () => {
      await z.add('pinf', [
        ['m', INF],
        ['n', 1],
      ]);
      await z.add('ninf', [
        ['m', -INF],
        ['n', -INF],
      ]);
      await o.unionStore('inf-sum', ['pinf', 'ninf']);
      await expectStored('inf-sum', [
        ['m', 0],
        ['n', -INF],
      ]);
      await o.unionStore('inf-zero', ['pinf'], { weights: [0] });
      await expectStored('inf-zero', [
        ['m', 0],
        ['n', 0],
      ]);
      await o.unionStore('inf-max', ['pinf', 'ninf'], { aggregate: Aggregate.MAX });
      await expectStored('inf-max', [
        ['m', INF],
        ['n', 1],
      ]);
      await o.intersectStore('inf-neg', ['pinf', 'ninf'], { weights: [-1, 1], aggregate: Aggregate.MIN });
      await expectStored('inf-neg', [
        ['m', -INF],
        ['n', -INF],
      ]);
    });

    it('answers Union and Intersect in sorted order without storing anything', async () => {
      expect(await o.union(['z1', 'z2'])).toEqual({
        entries: [
          ['a', 1],
          ['b', 12],
          ['c', 23],
          ['d', 30],
        ],
        more: false,
      });
      expect(await o.intersect(['z1', 'z2'], { aggregate: Aggregate.MAX })).toEqual({
        entries: [
          ['b', 10],
          ['c', 20],
        ],
        more: false,
      });
      // Ties by member bytes.
      await z.add('tie1', [
        ['q', 1],
        ['p', 2],
      ]);
      await z.add('tie2', [
        ['p', -1],
        ['r', 1],
      ]);
      expect((await o.union(['tie1', 'tie2'])).entries).toEqual([
        ['p', 1],
        ['q', 1],
        ['r', 1],
      ]);
      expect(await o.union(['missing'])).toEqual({ entries: [], more: false });
      expect(await o.intersect(['z1', 'missing'])).toEqual({ entries: [], more: false });
      expect(await z.card('z1')).toBe(3);
    });

    it('limits answers, saying whether more entries follow', async () => {
      expect(await o.union(['z1', 'z2'], { limit: 2 })).toEqual({
        entries: [
          ['a', 1],
          ['b', 12],
        ],
        more: true,
      });
      expect(await o.union(['z1', 'z2'], { limit: 4 })).toMatchObject({ more: false });
      expect(await o.intersect(['z1', 'z2'], { limit: 1 })).toEqual({ entries: [['b', 12]], more: true });
      const n = MAX_RANGE_ENTRIES + 2;
      await z.add(
        'bigA',
        Array.from({ length: n }, (_, i): [string, number] => [`m${String(i).padStart(6, '0')}`, i]),
      );
      const all = await o.union(['bigA', 'z1']);
      expect(all.entries).toHaveLength(MAX_RANGE_ENTRIES);
      expect(all.more).toBe(true);
      expect(await o.unionStore('bigU', ['bigA', 'z1'])).toBe(n + 3);
      expect(await z.card('bigU')).toBe(n + 3);
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
      let err = await expectCode(() => o.unionStore('d', []), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/keys/);
      const many = Array.from({ length: MAX_SOURCE_KEYS + 1 }, (_, i) => `k${i}`);
      err = await expectCode(() => o.union(many), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/keys/);
      err = await expectCode(() => o.intersectStore('d', ['z1', '']), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/keys\[1\]/);
      err = await expectCode(() => o.unionStore('', ['z1']), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/destination/);
      err = await expectCode(
        () => o.unionStore('k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1), ['z1']),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/destination/);
      err = await expectCode(() => o.unionStore('d', ['z1', 'z2'], { weights: [1] }), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/weights/);
      err = await expectCode(
        () => o.intersect(['z1', 'z2'], { weights: [1, Number.NaN] }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/weights\[1\]/);
      err = await expectCode(() => o.union(['z1'], { aggregate: 99 as Aggregate }), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/aggregate/);
      err = await expectCode(() => o.union(['z1'], { limit: MAX_RANGE_ENTRIES + 1 }), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/limit/);
      expect(await z.card('d')).toBe(0);
      // MAX_SOURCE_KEYS sources are fine.
      expect(await o.unionStore('d', [...many.slice(2), 'z1'])).toBe(3);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = sortedSetOperations(other.get(SortedSetOperations)!, ns);
        const theirBasic = basicOf(other, label, ns);
        expect(await theirs.unionStore('u', ['z1', 'z2'])).toBe(0);
        expect(await theirs.union(['z1'])).toEqual({ entries: [], more: false });
        await theirBasic.add('z1', [['theirs', 1]]);
        expect(await theirs.unionStore('mine-too', ['z1'])).toBe(1);
        expect(await z.card('mine-too')).toBe(0);
        expect(await o.union(['z1'])).toEqual({
          entries: [
            ['a', 1],
            ['b', 2],
            ['c', 3],
          ],
          more: false,
        });
      } finally {
        await other.close();
      }
    });
  });
}
