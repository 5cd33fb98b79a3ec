import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  Aggregate,
  aggregateScores,
  combinedAnswer,
  MAX_RANGE_ENTRIES,
  MAX_SOURCE_KEYS,
  SortedSetOperations,
  UnionRequestSchema,
  UnionStoreRequestSchema,
  weighted,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SortedSetOperations validators', () => {
  const v = SortedSetOperations.validate;
  const msg = (req: Parameters<NonNullable<typeof v.unionStore>>[0]) =>
    errorOf(() => v.unionStore?.(req, DEFAULT_LIMITS))?.rawMessage;
  it('checks destination, keys, weights and aggregate, naming the field', () => {
    expect(msg(create(UnionStoreRequestSchema, { destination: 'd', keys: ['a'] }))).toBeUndefined();
    expect(msg(create(UnionStoreRequestSchema, { destination: '', keys: ['a'] }))).toMatch(/destination/);
    expect(msg(create(UnionStoreRequestSchema, { destination: 'd' }))).toMatch(/keys/);
    expect(msg(create(UnionStoreRequestSchema, { destination: 'd', keys: ['a', ''] }))).toMatch(/keys\[1\]/);
    expect(
      msg(
        create(UnionStoreRequestSchema, {
          destination: 'd',
          keys: Array.from({ length: MAX_SOURCE_KEYS + 1 }, () => 'a'),
        }),
      ),
    ).toMatch(/keys/);
    expect(
      msg(create(UnionStoreRequestSchema, { destination: 'd', keys: ['a', 'b'], weights: [1] })),
    ).toMatch(/weights/);
    expect(
      msg(create(UnionStoreRequestSchema, { destination: 'd', keys: ['a'], weights: [Number.NaN] })),
    ).toMatch(/weights\[0\]/);
    expect(
      msg(create(UnionStoreRequestSchema, { destination: 'd', keys: ['a'], aggregate: 7 as Aggregate })),
    ).toMatch(/aggregate/);
    expect(
      errorOf(() => v.union?.(create(UnionRequestSchema, { keys: ['a'], limit: 10_001 }), DEFAULT_LIMITS))
        ?.rawMessage,
    ).toMatch(/limit/);
  });
});

describe('score arithmetic', () => {
  it('counts NaN products and sums as 0, like Redis', () => {
    expect(weighted(Number.POSITIVE_INFINITY, 0)).toBe(0);
    expect(weighted(2, -1.5)).toBe(-3);
    expect(aggregateScores(Aggregate.SUM, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(0);
    expect(aggregateScores(Aggregate.UNSPECIFIED, 1, 2)).toBe(3);
    expect(aggregateScores(Aggregate.MIN, 1, 2)).toBe(1);
    expect(aggregateScores(Aggregate.MAX, 1, 2)).toBe(2);
  });
});

describe('combinedAnswer', () => {
  const entry = (id: string, score: number) =>
    [id, { member: new Uint8Array(Buffer.from(id, 'latin1')), score }] as const;
  it('orders by score, then member bytes, and cuts to the limit (0 = MAX_RANGE_ENTRIES)', () => {
    const result = new Map([
      entry('b', 1),
      entry('\xff', 0),
      entry('a', 1),
      entry('c', Number.NEGATIVE_INFINITY),
    ]);
    const ids = (a: ReturnType<typeof combinedAnswer>) =>
      a.entries.map((e) => Buffer.from(e.member).toString('latin1'));
    expect(ids(combinedAnswer(result, 0))).toEqual(['c', '\xff', 'a', 'b']);
    expect(combinedAnswer(result, 0).more).toBe(false);
    const cut = combinedAnswer(result, 2);
    expect(ids(cut)).toEqual(['c', '\xff']);
    expect(cut.more).toBe(true);
    const many = new Map(Array.from({ length: MAX_RANGE_ENTRIES + 1 }, (_, i) => entry(String(i), i)));
    const full = combinedAnswer(many, 0);
    expect(full.entries).toHaveLength(MAX_RANGE_ENTRIES);
    expect(full.more).toBe(true);
  });
});
