import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  AddRequestSchema,
  CardRequestSchema,
  RemoveRequestSchema,
  ScoredMemberSchema,
  ScoreRequestSchema,
  SortedSetBasic,
  type SortedSetBasicImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** A member given as text (UTF-8) or bytes. */
export type MemberLike = string | Uint8Array;
/** Encodes a text member as UTF-8; bytes pass through. */
export const memberBytes = (m: MemberLike): Uint8Array =>
  typeof m === 'string' ? new TextEncoder().encode(m) : m;

/** ZADD flags of {@link sortedSetBasic}'s add. */
export interface AddFlags {
  nx?: boolean;
  xx?: boolean;
  gt?: boolean;
  lt?: boolean;
  ch?: boolean;
  incr?: boolean;
}

/** Small typed client over a sortedset_basic implementation, used by this and the other sorted-set suites. */
export function sortedSetBasic(impl: SortedSetBasicImpl, namespace: string) {
  return {
    /** Adds `[member, score]` pairs; answers the count and, with incr, the new score (undefined when blocked). */
    add: async (key: string, entries: [MemberLike, number][], flags: AddFlags = {}) => {
      const res = await impl.add(
        create(AddRequestSchema, {
          namespace,
          key,
          entries: entries.map(([m, score]) => create(ScoredMemberSchema, { member: memberBytes(m), score })),
          ...flags,
        }),
        ctx,
      );
      return { count: Number(res.count ?? 0), score: res.score };
    },
    remove: async (key: string, ...members: MemberLike[]) =>
      Number(
        (
          await impl.remove(
            create(RemoveRequestSchema, { namespace, key, members: members.map(memberBytes) }),
            ctx,
          )
        ).removed ?? 0,
      ),
    /** The score, or undefined when the member is missing. */
    score: async (key: string, member: MemberLike) => {
      const res = await impl.score(
        create(ScoreRequestSchema, { namespace, key, member: memberBytes(member) }),
        ctx,
      );
      if (res.found) return res.score ?? 0;
      expect(res.score ?? 0).toBe(0);
      return undefined;
    },
    card: async (key: string) =>
      Number((await impl.card(create(CardRequestSchema, { namespace, key }), ctx)).count ?? 0),
  };
}

/** Opens the sortedset_basic implementation of a handle (the other sorted-set suites fill keys with it). */
export function basicOf(handle: PluginHandle, label: string, namespace: string) {
  const impl = handle.get(SortedSetBasic);
  if (!impl) throw new Error(`${label} does not implement sortedset_basic (the sorted-set suites need it)`);
  return sortedSetBasic(impl, namespace);
}

/** Scores that must round-trip exactly through every backend. */
export const AWKWARD_SCORES = [
  0,
  1.5,
  -2.25,
  0.1 + 0.2,
  1e300,
  -1e-300,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 53,
  -(2 ** 53) - 2,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

/** The sortedset_basic conformance suite: ZADD flags and counts, scores, removal, limits, concurrency. */
export function describeSortedSetBasicConformance(label: string, factory: PluginFactory): void {
  describe(`sortedset_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let z: ReturnType<typeof sortedSetBasic>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      z = basicOf(handle, label, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('adds members, counting only new ones, and answers their scores and the cardinality', async () => {
      expect(
        await z.add('board', [
          ['alice', 10],
          ['bob', 20],
          ['carol', -5],
        ]),
      ).toEqual({
        count: 3,
        score: undefined,
      });
      expect(await z.card('board')).toBe(3);
      expect(await z.score('board', 'alice')).toBe(10);
      expect(await z.score('board', 'carol')).toBe(-5);
      // An update of an existing member is not counted without ch.
      expect(
        (
          await z.add('board', [
            ['alice', 11],
            ['dave', 1],
          ])
        ).count,
      ).toBe(1);
      expect(await z.score('board', 'alice')).toBe(11);
      expect(await z.card('board')).toBe(4);
    });

    it('answers missing members and missing keys without error', async () => {
      await z.add('present', [['x', 1]]);
      expect(await z.score('present', 'y')).toBeUndefined();
      expect(await z.score('never', 'x')).toBeUndefined();
      expect(await z.card('never')).toBe(0);
      expect(await z.remove('never', 'x')).toBe(0);
    });

    it('round-trips awkward scores exactly, including ±inf and extreme doubles', async () => {
      const entries = AWKWARD_SCORES.map((s, i): [string, number] => [`m${i}`, s]);
      expect((await z.add('awkward', entries)).count).toBe(AWKWARD_SCORES.length);
      for (const [m, s] of entries) expect(await z.score('awkward', m)).toBe(s);
    });

    it('keeps binary, empty and unicode members distinct and intact', async () => {
      const members = [
        new Uint8Array(),
        Uint8Array.of(0),
        Uint8Array.of(0, 0),
        Uint8Array.of(0xff),
        Uint8Array.from({ length: 256 }, (_, i) => i),
        memberBytes('héllo 🌍'),
        memberBytes('hello'),
      ];
      expect(
        (
          await z.add(
            'bin',
            members.map((m, i): [Uint8Array, number] => [m, i]),
          )
        ).count,
      ).toBe(members.length);
      expect(await z.card('bin')).toBe(members.length);
      for (let i = 0; i < members.length; i++) expect(await z.score('bin', members[i]!)).toBe(i);
      expect(await z.remove('bin', Uint8Array.of(0))).toBe(1);
      expect(await z.score('bin', new Uint8Array())).toBe(0);
      expect(await z.score('bin', Uint8Array.of(0, 0))).toBe(2);
      expect(await z.score('bin', Uint8Array.of(0))).toBeUndefined();
    });

    it('applies entries in request order: a repeated member ends with the last score', async () => {
      expect(
        (
          await z.add('dup', [
            ['a', 1],
            ['a', 3],
            ['b', 2],
          ])
        ).count,
      ).toBe(2);
      expect(await z.score('dup', 'a')).toBe(3);
      expect(await z.card('dup')).toBe(2);
      // With ch the second write of a counts as an update of the first.
      expect(
        (
          await z.add(
            'dup-ch',
            [
              ['a', 1],
              ['a', 3],
            ],
            { ch: true },
          )
        ).count,
      ).toBe(2);
      expect(
        (
          await z.add(
            'dup-ch',
            [
              ['a', 3],
              ['a', 3],
            ],
            { ch: true },
          )
        ).count,
      ).toBe(0);
    });

    it('counts added plus changed members with ch, but not a score set to its current value', async () => {
      await z.add('ch', [
        ['a', 1],
        ['b', 2],
      ]);
      expect(
        (
          await z.add(
            'ch',
            [
              ['a', 1],
              ['b', 5],
              ['c', 3],
            ],
            { ch: true },
          )
        ).count,
      ).toBe(2);
      expect(await z.score('ch', 'b')).toBe(5);
      expect((await z.add('ch', [['a', 1]], { ch: true })).count).toBe(0);
    });

    it('nx only adds new members and never updates existing ones', async () => {
      await z.add('nx', [['a', 1]]);
      expect(
        (
          await z.add(
            'nx',
            [
              ['a', 9],
              ['b', 2],
            ],
            { nx: true },
          )
        ).count,
      ).toBe(1);
      expect(await z.score('nx', 'a')).toBe(1);
      expect(await z.score('nx', 'b')).toBe(2);
      expect((await z.add('nx', [['a', 9]], { nx: true, ch: true })).count).toBe(0);
      expect(await z.score('nx', 'a')).toBe(1);
    });

    it('xx only updates existing members and never adds new ones', async () => {
      await z.add('xx', [['a', 1]]);
      expect(
        (
          await z.add(
            'xx',
            [
              ['a', 7],
              ['b', 2],
            ],
            { xx: true },
          )
        ).count,
      ).toBe(0);
      expect(await z.score('xx', 'a')).toBe(7);
      expect(await z.score('xx', 'b')).toBeUndefined();
      expect(
        (
          await z.add(
            'xx',
            [
              ['a', 8],
              ['b', 2],
            ],
            { xx: true, ch: true },
          )
        ).count,
      ).toBe(1);
      expect(await z.card('xx')).toBe(1);
      // xx on a missing key creates nothing.
      expect((await z.add('xx-missing', [['a', 1]], { xx: true })).count).toBe(0);
      expect(await z.card('xx-missing')).toBe(0);
    });

    it('gt and lt only update in their direction, still adding new members', async () => {
      await z.add('gt', [
        ['a', 5],
        ['b', 5],
      ]);
      expect(
        (
          await z.add(
            'gt',
            [
              ['a', 4],
              ['b', 6],
              ['c', 1],
            ],
            { gt: true, ch: true },
          )
        ).count,
      ).toBe(2);
      expect(await z.score('gt', 'a')).toBe(5);
      expect(await z.score('gt', 'b')).toBe(6);
      expect(await z.score('gt', 'c')).toBe(1);
      // An equal score is neither greater nor less.
      expect((await z.add('gt', [['b', 6]], { gt: true, ch: true })).count).toBe(0);

      await z.add('lt', [
        ['a', 5],
        ['b', 5],
      ]);
      expect(
        (
          await z.add(
            'lt',
            [
              ['a', 4],
              ['b', 6],
              ['c', 9],
            ],
            { lt: true, ch: true },
          )
        ).count,
      ).toBe(2);
      expect(await z.score('lt', 'a')).toBe(4);
      expect(await z.score('lt', 'b')).toBe(5);
      expect(await z.score('lt', 'c')).toBe(9);
      expect((await z.add('lt', [['a', Number.NEGATIVE_INFINITY]], { lt: true })).count).toBe(0);
      expect(await z.score('lt', 'a')).toBe(Number.NEGATIVE_INFINITY);

      // xx with gt: update upwards only, add nothing.
      expect(
        (
          await z.add(
            'gt',
            [
              ['a', 50],
              ['new', 1],
            ],
            { xx: true, gt: true, ch: true },
          )
        ).count,
      ).toBe(1);
      expect(await z.score('gt', 'a')).toBe(50);
      expect(await z.score('gt', 'new')).toBeUndefined();
    });

    it('incr adds the increment and answers the new score (ZINCRBY)', async () => {
      expect(await z.add('incr', [['a', 2.5]], { incr: true })).toEqual({ count: 1, score: 2.5 });
      expect(await z.add('incr', [['a', 4]], { incr: true })).toEqual({ count: 0, score: 6.5 });
      expect(await z.add('incr', [['a', -10]], { incr: true, ch: true })).toEqual({ count: 1, score: -3.5 });
      // An increment of 0 is processed: it answers the score, and ch counts no change.
      expect(await z.add('incr', [['a', 0]], { incr: true, ch: true })).toEqual({ count: 0, score: -3.5 });
      expect(await z.score('incr', 'a')).toBe(-3.5);
      expect(await z.add('incr', [['b', Number.POSITIVE_INFINITY]], { incr: true })).toEqual({
        count: 1,
        score: Number.POSITIVE_INFINITY,
      });
      expect((await z.add('incr', [['b', 1]], { incr: true })).score).toBe(Number.POSITIVE_INFINITY);
    });

    it('incr answers no score when nx, xx, gt or lt blocked it, and changes nothing', async () => {
      await z.add('incr-blocked', [['a', 10]]);
      expect(await z.add('incr-blocked', [['a', 1]], { incr: true, nx: true })).toEqual({
        count: 0,
        score: undefined,
      });
      expect(await z.add('incr-blocked', [['b', 1]], { incr: true, xx: true })).toEqual({
        count: 0,
        score: undefined,
      });
      expect(await z.add('incr-blocked', [['a', -1]], { incr: true, gt: true })).toEqual({
        count: 0,
        score: undefined,
      });
      expect(await z.add('incr-blocked', [['a', 1]], { incr: true, lt: true })).toEqual({
        count: 0,
        score: undefined,
      });
      expect(await z.add('incr-blocked', [['a', 1]], { incr: true, gt: true })).toEqual({
        count: 0,
        score: 11,
      });
      expect(await z.score('incr-blocked', 'a')).toBe(11);
      expect(await z.score('incr-blocked', 'b')).toBeUndefined();
      expect(await z.card('incr-blocked')).toBe(1);
    });

    it('rejects an increment whose result is NaN with INVALID_ARGUMENT and keeps the score', async () => {
      await z.add('nan', [['a', Number.POSITIVE_INFINITY]]);
      const err = await expectCode(
        () => z.add('nan', [['a', Number.NEGATIVE_INFINITY]], { incr: true }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/NaN|not a number/i);
      expect(await z.score('nan', 'a')).toBe(Number.POSITIVE_INFINITY);
    });

    it('removes members, counting only present ones, and drops a set that becomes empty', async () => {
      await z.add('rm', [
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      expect(await z.remove('rm', 'a', 'zzz', 'a')).toBe(1);
      expect(await z.card('rm')).toBe(2);
      expect(await z.remove('rm', 'b', 'c')).toBe(2);
      expect(await z.card('rm')).toBe(0);
      expect(await z.score('rm', 'b')).toBeUndefined();
      // A fresh set starts on the next add.
      expect((await z.add('rm', [['b', 9]])).count).toBe(1);
      expect(await z.score('rm', 'b')).toBe(9);
    });

    it('holds a large set', async () => {
      const entries = Array.from({ length: 2000 }, (_, i): [string, number] => [`m${i}`, i % 17]);
      expect((await z.add('large', entries)).count).toBe(2000);
      expect(await z.card('large')).toBe(2000);
      expect(await z.score('large', 'm1999')).toBe(1999 % 17);
    });

    it('applies 50 concurrent increments of one member exactly once each', async () => {
      const scores = await Promise.all(
        Array.from({ length: 50 }, () => z.add('busy', [['hits', 1]], { incr: true })),
      );
      expect(scores.map((s) => s.score).sort((a, b) => a! - b!)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      expect(scores.filter((s) => s.count === 1)).toHaveLength(1);
      expect(await z.score('busy', 'hits')).toBe(50);
    });

    it('lets exactly one of 20 concurrent nx adds of the same member win', async () => {
      const counts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => z.add('race', [['m', i]], { nx: true })),
      );
      expect(counts.filter((c) => c.count === 1)).toHaveLength(1);
      const winner = counts.findIndex((c) => c.count === 1);
      expect(await z.score('race', 'm')).toBe(winner);
    });

    it('rejects bad Add input with INVALID_ARGUMENT naming the field, storing nothing', async () => {
      let err = await expectCode(() => z.add('bad', []), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/entries/);
      err = await expectCode(
        () =>
          z.add('bad', [
            ['a', 1],
            ['b', Number.NaN],
          ]),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/entries\[1\]\.score/);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      err = await expectCode(
        () =>
          z.add('bad', [
            ['a', 1],
            [big, 1],
          ]),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/entries\[1\]\.member/);
      err = await expectCode(() => z.add('bad', [['a', 1]], { nx: true, xx: true }), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/nx/);
      for (const flags of [
        { gt: true, lt: true },
        { nx: true, gt: true },
        { nx: true, lt: true },
      ]) {
        err = await expectCode(() => z.add('bad', [['a', 1]], flags), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/gt|lt/);
      }
      err = await expectCode(
        () =>
          z.add(
            'bad',
            [
              ['a', 1],
              ['b', 2],
            ],
            { incr: true },
          ),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/incr/);
      expect(await z.card('bad')).toBe(0);
    });

    it('rejects bad Remove and Score input with INVALID_ARGUMENT naming the field', async () => {
      let err = await expectCode(() => z.remove('k'), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/members/);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      err = await expectCode(() => z.remove('k', 'a', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/members\[1\]/);
      err = await expectCode(() => z.score('k', big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/member/);
    });

    it('rejects an empty or over-limit key with INVALID_ARGUMENT on every method', async () => {
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        const err = await expectCode(() => z.add(key, [['a', 1]]), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/key/);
        await expectCode(() => z.remove(key, 'a'), Code.InvalidArgument);
        await expectCode(() => z.score(key, 'a'), Code.InvalidArgument);
        await expectCode(() => z.card(key), Code.InvalidArgument);
      }
      // A key at exactly the limit works.
      const longest = 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes);
      expect((await z.add(longest, [['a', 1]])).count).toBe(1);
      expect(await z.card(longest)).toBe(1);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = basicOf(other, label, ns);
        await z.add('shared', [['mine', 1]]);
        expect(await theirs.card('shared')).toBe(0);
        expect(await theirs.score('shared', 'mine')).toBeUndefined();
        await theirs.add('shared', [
          ['theirs', 2],
          ['more', 3],
        ]);
        expect(await z.card('shared')).toBe(1);
        expect(await z.score('shared', 'theirs')).toBeUndefined();
        expect(await theirs.remove('shared', 'mine')).toBe(0);
        expect(await z.score('shared', 'mine')).toBe(1);
      } finally {
        await other.close();
      }
    });
  });
}
