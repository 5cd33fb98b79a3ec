import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import {
  AddRequestSchema,
  compareBytes,
  fromMemberId,
  memberId,
  planAdd,
  RemoveRequestSchema,
  ScoredMemberSchema,
  ScoreRequestSchema,
  SortedSetBasic,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const b = (s: string) => new TextEncoder().encode(s);
const add = (entries: [string, number][], flags: Record<string, boolean | undefined> = {}) =>
  create(AddRequestSchema, {
    key: 'k',
    entries: entries.map(([m, score]) => create(ScoredMemberSchema, { member: b(m), score })),
    ...flags,
  });

describe('SortedSetBasic validators', () => {
  const v = SortedSetBasic.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('accepts entries with ±inf scores and empty members', () => {
    expect(
      errorOf(() =>
        v.add?.(
          add([
            ['', Number.NEGATIVE_INFINITY],
            ['abcd', Number.POSITIVE_INFINITY],
          ]),
          limits,
        ),
      ),
    ).toBeUndefined();
  });
  it('rejects no entries, NaN scores and over-limit members, naming the field', () => {
    expect(errorOf(() => v.add?.(add([]), limits))?.rawMessage).toMatch(/entries/);
    expect(
      errorOf(() =>
        v.add?.(
          add([
            ['a', 1],
            ['b', Number.NaN],
          ]),
          limits,
        ),
      )?.rawMessage,
    ).toMatch(/entries\[1\]\.score/);
    expect(errorOf(() => v.add?.(add([['abcde', 1]]), limits))?.rawMessage).toMatch(/entries\[0\]\.member/);
  });
  it('rejects incompatible flags and incr with several entries', () => {
    for (const flags of [
      { nx: true, xx: true },
      { gt: true, lt: true },
      { nx: true, gt: true },
      { nx: true, lt: true },
    ])
      expect(errorOf(() => v.add?.(add([['a', 1]], flags), limits))?.code).toBe(Code.InvalidArgument);
    expect(errorOf(() => v.add?.(add([['a', 1]], { xx: true, gt: true, ch: true }), limits))).toBeUndefined();
    expect(
      errorOf(() =>
        v.add?.(
          add(
            [
              ['a', 1],
              ['b', 1],
            ],
            { incr: true },
          ),
          limits,
        ),
      )?.rawMessage,
    ).toMatch(/incr/);
  });
  it('checks members of Remove and Score', () => {
    expect(errorOf(() => v.remove?.(create(RemoveRequestSchema, { key: 'k' }), limits))?.rawMessage).toMatch(
      /members/,
    );
    expect(
      errorOf(() =>
        v.remove?.(create(RemoveRequestSchema, { key: 'k', members: [b('a'), b('abcde')] }), limits),
      )?.rawMessage,
    ).toMatch(/members\[1\]/);
    expect(
      errorOf(() => v.score?.(create(ScoreRequestSchema, { key: '', member: b('a') }), limits))?.rawMessage,
    ).toMatch(/key/);
  });
});

describe('planAdd', () => {
  const current = (m: Record<string, number>) => (id: string) => m[id];
  it('follows ZADD: counts added, ch counts changes, repeated members apply in order', () => {
    const plan = planAdd(
      add([
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ]),
      current({ b: 2 }),
    );
    expect(plan.count).toBe(1);
    expect([...plan.writes.entries()].map(([id, w]) => [id, w.score])).toEqual([['a', 3]]);
    expect(
      planAdd(
        add(
          [
            ['a', 1],
            ['b', 2],
            ['a', 3],
          ],
          { ch: true },
        ),
        current({ b: 2 }),
      ).count,
    ).toBe(2);
  });
  it('incr answers the new score or undefined when blocked; NaN throws', () => {
    expect(planAdd(add([['a', 2]], { incr: true }), current({ a: 3 })).score).toBe(5);
    expect(planAdd(add([['a', -2]], { incr: true, gt: true }), current({ a: 3 })).score).toBeUndefined();
    expect(planAdd(add([['a', 2]], { incr: true, xx: true }), current({})).score).toBeUndefined();
    expect(
      errorOf(() =>
        planAdd(
          add([['a', Number.NEGATIVE_INFINITY]], { incr: true }),
          current({ a: Number.POSITIVE_INFINITY }),
        ),
      )?.code,
    ).toBe(Code.InvalidArgument);
  });
});

describe('member order', () => {
  it('compares unsigned bytes with a prefix first, and member ids keep that order', () => {
    const ms = [
      Uint8Array.of(),
      Uint8Array.of(0),
      Uint8Array.of(0x61),
      Uint8Array.of(0x61, 0),
      Uint8Array.of(0x80),
      Uint8Array.of(0xff),
    ];
    for (let i = 1; i < ms.length; i++) {
      expect(compareBytes(ms[i - 1]!, ms[i]!)).toBeLessThan(0);
      expect(memberId(ms[i - 1]!) < memberId(ms[i]!)).toBe(true);
      expect(fromMemberId(memberId(ms[i]!))).toEqual(ms[i]);
    }
  });
});
