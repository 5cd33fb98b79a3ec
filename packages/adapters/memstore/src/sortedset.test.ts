import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import {
  AddRequestSchema,
  CardRequestSchema,
  compareEntries,
  RemoveRequestSchema,
  ScoredMemberSchema,
} from '@prism/sortedset-basic';
import { RangeByRankRequestSchema } from '@prism/sortedset-range';
import { RankRequestSchema } from '@prism/sortedset-rank';
import { memSortedSetBasic, memSortedSetRange, memSortedSetRank, SortedSetStore } from './sortedset.js';

const ctx = { signal: new AbortController().signal };

describe('memstore sorted sets', () => {
  it('keeps the chunked order equal to a sort of the members through many random writes', async () => {
    const store = new SortedSetStore('t');
    const basic = memSortedSetBasic(store);
    const range = memSortedSetRange(store);
    const rank = memSortedSetRank(store);
    const model = new Map<number, number>();
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed >>> 8) % n;
    };
    const member = (i: number) => Uint8Array.of(i >> 8, i & 0xff);
    for (let step = 0; step < 20_000; step++) {
      const i = rnd(3000);
      if (rnd(4) === 0) {
        await basic.remove(create(RemoveRequestSchema, { key: 'k', members: [member(i)] }), ctx);
        model.delete(i);
      } else {
        const score = rnd(50) - 25;
        await basic.add(
          create(AddRequestSchema, {
            key: 'k',
            entries: [create(ScoredMemberSchema, { member: member(i), score })],
          }),
          ctx,
        );
        model.set(i, score);
      }
    }
    expect(model.size).toBeGreaterThan(1500);
    const expected = [...model].map(([i, score]) => ({ member: member(i), score })).sort(compareEntries);
    const card = Number((await basic.card(create(CardRequestSchema, { key: 'k' }), ctx)).count);
    expect(card).toBe(expected.length);
    const got = await range.rangeByRank(
      create(RangeByRankRequestSchema, { key: 'k', start: 0n, stop: -1n }),
      ctx,
    );
    expect(got.entries).toEqual(expected);
    for (const r of [0, 1, 700, expected.length - 1]) {
      const res = await rank.rank(create(RankRequestSchema, { key: 'k', member: expected[r]!.member }), ctx);
      expect(res).toEqual({ found: true, rank: BigInt(r) });
    }
  });

  it('answers UNAVAILABLE after close', () => {
    const store = new SortedSetStore('gone');
    store.close();
    expect(() => store.get('k')).toThrow(/closed/);
  });
});
