import { describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { basicOf } from '@prism/sortedset-basic/conformance';
import { SortedSetLex } from '@prism/sortedset-lex';
import { sortedSetLex } from '@prism/sortedset-lex/conformance';
import { SortedSetRange } from '@prism/sortedset-range';
import { sortedSetRange } from '@prism/sortedset-range/conformance';
import { SortedSetRank } from '@prism/sortedset-rank';
import { sortedSetRank } from '@prism/sortedset-rank/conformance';
import { useTestDatabase } from './database.test-util.js';

const db = useTestDatabase();

async function open(namespace: string) {
  const h = await db.open({ pool_size: 2 }, { namespace });
  return {
    z: basicOf(h, 'postgres', namespace),
    range: sortedSetRange(h.get(SortedSetRange)!, namespace),
    rank: sortedSetRank(h.get(SortedSetRank)!, namespace),
    lex: sortedSetLex(h.get(SortedSetLex)!, namespace),
  };
}

const rows = (ns: string, key: string) =>
  db.direct<
    { member: Buffer; score: number; prefix: Buffer }[]
  >`SELECT member, score, prefix FROM prism.zset_members
    WHERE namespace = ${ns} AND key = ${key} ORDER BY score, prefix, member`;

describe('postgres adapter: sorted sets as rows of prism.zset_members', () => {
  it('stores one row per member with a float8 score (±Infinity included), and none for an emptied set', async () => {
    const ns = uniqueNamespace('pgz');
    const { z } = await open(ns);
    await z.add('board', [
      ['b', Number.POSITIVE_INFINITY],
      ['a', -1.5],
    ]);
    const got = await rows(ns, 'board');
    expect(got.map((r) => [r.member.toString(), r.score])).toEqual([
      ['a', -1.5],
      ['b', Number.POSITIVE_INFINITY],
    ]);
    const [inf] = await db.direct<{ s: string }[]>`SELECT score::text AS s FROM prism.zset_members
      WHERE namespace = ${ns} AND key = 'board' AND member = 'b'::bytea`;
    expect(inf!.s).toBe('Infinity');
    await db.direct`INSERT INTO prism.zset_members (namespace, key, member, score) VALUES (${ns}, 'board', 'outside'::bytea, 7)`;
    expect(await z.score('board', 'outside')).toBe(7);
    await z.remove('board', 'a', 'b', 'outside');
    expect(await rows(ns, 'board')).toHaveLength(0);
  });

  it('orders, ranks and lex-ranges members longer than a btree entry (beyond the 64-byte prefix)', async () => {
    const ns = uniqueNamespace('pgzbig');
    const { z, range, rank, lex } = await open(ns);
    // Three 200 KiB members that differ only after their first 100 KiB, plus a short one: all at score 1.
    const big = (last: number) => {
      const m = new Uint8Array(200 * 1024).fill(0x61);
      m[100 * 1024] = last;
      return m;
    };
    await z.add('k', [
      [big(0x63), 1],
      [big(0x62), 1],
      ['a', 1],
      [big(0x64), 1],
    ]);
    const got = await rows(ns, 'k');
    expect(got.map((r) => r.prefix.length)).toEqual([1, 64, 64, 64]);
    const order = (await range.byScore('k')).entries.map(([m]) =>
      m.length > 1 ? m.charCodeAt(100 * 1024) : m,
    );
    expect(order).toEqual(['a', 0x62, 0x63, 0x64]);
    expect(await rank.rank('k', big(0x63))).toBe(2);
    expect(await rank.revRank('k', big(0x62))).toBe(2);
    expect(await lex.count('k', ['(', big(0x62)], ['[', big(0x64)])).toBe(2);
    expect((await range.byRank('k', -1, -1)).entries[0]![0].charCodeAt(100 * 1024)).toBe(0x64);
  });

  it('keeps namespaces apart in the shared table', async () => {
    const a = uniqueNamespace('pgza');
    const b = `${a}-b`;
    await (await open(a)).z.add('k', [['x', 1]]);
    await (await open(b)).z.add('k', [['y', 2]]);
    expect((await rows(a, 'k')).map((r) => r.member.toString())).toEqual(['x']);
    expect((await rows(b, 'k')).map((r) => r.member.toString())).toEqual(['y']);
  });
});
