import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  boundRange,
  DEFAULT_RANGE_LIMIT,
  effectiveRangeLimit,
  ListRange,
  MAX_RANGE_BYTES,
  MAX_RANGE_LIMIT,
  RangeRequestSchema,
  resolveRange,
  TrimRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('ListRange validators', () => {
  const v = ListRange.validate;
  it('bounds limit and names it', () => {
    const ok = create(RangeRequestSchema, { key: 'k', limit: MAX_RANGE_LIMIT });
    expect(errorOf(() => v.range?.(ok, DEFAULT_LIMITS))).toBeUndefined();
    const err = errorOf(() =>
      v.range?.(create(RangeRequestSchema, { key: 'k', limit: MAX_RANGE_LIMIT + 1 }), DEFAULT_LIMITS),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/^limit/);
  });
  it('checks the key', () => {
    expect(errorOf(() => v.trim?.(create(TrimRequestSchema, { key: '' }), DEFAULT_LIMITS))?.code).toBe(
      Code.InvalidArgument,
    );
  });
});

describe('resolveRange', () => {
  it('follows LRANGE clamping', () => {
    expect(resolveRange(0n, -1n, 5)).toEqual([0, 4]);
    expect(resolveRange(-2n, -1n, 5)).toEqual([3, 4]);
    expect(resolveRange(-100n, 100n, 5)).toEqual([0, 4]);
    expect(resolveRange(5n, 10n, 5)).toBeUndefined();
    expect(resolveRange(3n, 2n, 5)).toBeUndefined();
    expect(resolveRange(0n, -6n, 5)).toBeUndefined();
    expect(resolveRange(0n, -1n, 0)).toBeUndefined();
  });
});

describe('boundRange', () => {
  it('cuts at limit and at the byte bound, keeping at least one value', () => {
    const small = Array.from({ length: 5 }, () => new Uint8Array(1));
    expect(boundRange(small, 10, 5, 3)).toMatchObject({ truncated: true, nextStart: 13n });
    expect(boundRange(small, 10, 5, 5)).toMatchObject({ truncated: false, nextStart: 0n });
    const huge = [new Uint8Array(MAX_RANGE_BYTES + 1), new Uint8Array(1)];
    const r = boundRange(huge, 0, 2, 10);
    expect(r.values.length).toBe(1);
    expect(r).toMatchObject({ truncated: true, nextStart: 1n });
    expect(effectiveRangeLimit(0)).toBe(DEFAULT_RANGE_LIMIT);
  });
});
