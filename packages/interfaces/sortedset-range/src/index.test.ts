import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  MAX_RANGE_ENTRIES,
  RangeByRankRequestSchema,
  RangeByScoreRequestSchema,
  resolveRanks,
  ScoreBoundSchema,
  SortedSetRange,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SortedSetRange validators', () => {
  const v = SortedSetRange.validate;
  it('rejects NaN bounds and an over-maximum limit, naming the field', () => {
    const nan = create(ScoreBoundSchema, { value: Number.NaN });
    expect(
      errorOf(() =>
        v.rangeByScore?.(create(RangeByScoreRequestSchema, { key: 'k', min: nan }), DEFAULT_LIMITS),
      )?.rawMessage,
    ).toMatch(/min\.value/);
    expect(
      errorOf(() =>
        v.rangeByScore?.(create(RangeByScoreRequestSchema, { key: 'k', max: nan }), DEFAULT_LIMITS),
      )?.rawMessage,
    ).toMatch(/max\.value/);
    expect(
      errorOf(() =>
        v.rangeByScore?.(
          create(RangeByScoreRequestSchema, { key: 'k', limit: MAX_RANGE_ENTRIES + 1 }),
          DEFAULT_LIMITS,
        ),
      )?.rawMessage,
    ).toMatch(/limit/);
    expect(
      errorOf(() =>
        v.rangeByScore?.(
          create(RangeByScoreRequestSchema, { key: 'k', limit: MAX_RANGE_ENTRIES }),
          DEFAULT_LIMITS,
        ),
      ),
    ).toBeUndefined();
  });
  it('rejects ranks beyond safe integers', () => {
    expect(
      errorOf(() =>
        v.rangeByRank?.(create(RangeByRankRequestSchema, { key: 'k', start: 2n ** 60n }), DEFAULT_LIMITS),
      )?.rawMessage,
    ).toMatch(/start/);
  });
});

describe('resolveRanks', () => {
  it('follows ZRANGE: negative from the end, clamped, empty when start > stop', () => {
    expect(resolveRanks(0, -1, 5)).toEqual({ from: 0, to: 4 });
    expect(resolveRanks(-2, -1, 5)).toEqual({ from: 3, to: 4 });
    expect(resolveRanks(-100, 100, 5)).toEqual({ from: 0, to: 4 });
    expect(resolveRanks(3, 2, 5)).toBeUndefined();
    expect(resolveRanks(5, 9, 5)).toBeUndefined();
    expect(resolveRanks(0, -6, 5)).toBeUndefined();
    expect(resolveRanks(0, -1, 0)).toBeUndefined();
  });
});
