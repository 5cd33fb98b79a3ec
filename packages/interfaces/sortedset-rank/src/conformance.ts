import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { basicOf, type MemberLike, memberBytes } from '@prism/sortedset-basic/conformance';
import { RankRequestSchema, RevRankRequestSchema, SortedSetRank, type SortedSetRankImpl } from './index.js';

const ctx = { signal: new AbortController().signal };
const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** Small typed client over a sortedset_rank implementation: a rank, or undefined when missing. */
export function sortedSetRank(impl: SortedSetRankImpl, namespace: string) {
  const rankOf = (res: { found?: boolean; rank?: bigint }) => {
    if (!res.found) {
      expect(res.rank ?? 0n).toBe(0n);
      return undefined;
    }
    return Number(res.rank ?? 0n);
  };
  return {
    rank: async (key: string, member: MemberLike) =>
      rankOf(
        await impl.rank(create(RankRequestSchema, { namespace, key, member: memberBytes(member) }), ctx),
      ),
    revRank: async (key: string, member: MemberLike) =>
      rankOf(
        await impl.revRank(
          create(RevRankRequestSchema, { namespace, key, member: memberBytes(member) }),
          ctx,
        ),
      ),
  };
}

const INF = Number.POSITIVE_INFINITY;
/** In sorted order: ties at 2 by unsigned bytes (empty first, a prefix before its extensions). */
const ORDERED: [string, number][] = [
  ['low', -INF],
  ['a', 1],
  ['', 2],
  ['\x00', 2],
  ['b', 2],
  ['bb', 2],
  ['\x80', 2],
  ['\xff', 2],
  ['top', INF],
];

/** The sortedset_rank conformance suite (needs sortedset_basic on the same adapter to fill keys). */
export function describeSortedSetRankConformance(label: string, factory: PluginFactory): void {
  describe(`sortedset_rank conformance: ${label}`, () => {
    let handle: PluginHandle;
    let z: ReturnType<typeof basicOf>;
    let r: ReturnType<typeof sortedSetRank>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(SortedSetRank);
      if (!impl) throw new Error(`${label} does not implement sortedset_rank`);
      r = sortedSetRank(impl, namespace);
      z = basicOf(handle, label, namespace);
      await z.add(
        'fx',
        [...ORDERED].reverse().map(([m, s]): [Uint8Array, number] => [latin1(m), s]),
      );
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('answers 0-based ranks from the lowest and the highest entry, ties by unsigned bytes', async () => {
      for (let i = 0; i < ORDERED.length; i++) {
        const m = latin1(ORDERED[i]![0]);
        expect([i, await r.rank('fx', m)]).toEqual([i, i]);
        expect([i, await r.revRank('fx', m)]).toEqual([i, ORDERED.length - 1 - i]);
      }
    });

    it('answers found=false for a missing member or key', async () => {
      expect(await r.rank('fx', 'nope')).toBeUndefined();
      expect(await r.revRank('fx', 'nope')).toBeUndefined();
      expect(await r.rank('fx', latin1('\x00\x00'))).toBeUndefined();
      expect(await r.rank('never', 'a')).toBeUndefined();
      expect(await r.revRank('never', 'a')).toBeUndefined();
    });

    it('follows score updates and removals', async () => {
      await z.add('live', [
        ['x', 1],
        ['y', 2],
        ['z', 3],
      ]);
      expect(await r.rank('live', 'x')).toBe(0);
      await z.add('live', [['x', 10]]);
      expect(await r.rank('live', 'x')).toBe(2);
      expect(await r.revRank('live', 'x')).toBe(0);
      expect(await r.rank('live', 'y')).toBe(0);
      await z.remove('live', 'y');
      expect(await r.rank('live', 'z')).toBe(0);
      expect(await r.rank('live', 'y')).toBeUndefined();
      await z.remove('live', 'x', 'z');
      expect(await r.rank('live', 'z')).toBeUndefined();
    });

    it('ranks within a large set', async () => {
      const n = 3000;
      // Scores descend with the index, so member m<i> has rank n-1-i.
      await z.add(
        'large',
        Array.from({ length: n }, (_, i): [string, number] => [`m${i}`, n - i]),
      );
      for (const i of [0, 1, 1499, 2998, 2999]) {
        expect(await r.rank('large', `m${i}`)).toBe(n - 1 - i);
        expect(await r.revRank('large', `m${i}`)).toBe(i);
      }
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      let err = await expectCode(() => r.rank('fx', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/member/);
      err = await expectCode(() => r.revRank('fx', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/member/);
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        err = await expectCode(() => r.rank(key, 'a'), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/key/);
        await expectCode(() => r.revRank(key, 'a'), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = sortedSetRank(other.get(SortedSetRank)!, ns);
        expect(await theirs.rank('fx', 'a')).toBeUndefined();
        await basicOf(other, label, ns).add('fx', [['zzz', -INF]]);
        expect(await theirs.rank('fx', 'zzz')).toBe(0);
        expect(await r.rank('fx', 'zzz')).toBeUndefined();
        expect(await r.rank('fx', 'low')).toBe(0);
      } finally {
        await other.close();
      }
    });
  });
}
