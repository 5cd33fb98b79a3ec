import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import {
  combine,
  DifferenceRequestSchema,
  IntersectRequestSchema,
  MAX_SET_KEYS,
  SetOperations,
  UnionRequestSchema,
  UnionStoreRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SetOperations validators', () => {
  const v = SetOperations.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('needs 1..MAX_SET_KEYS valid keys', () => {
    expect(errorOf(() => v.union?.(create(UnionRequestSchema, { keys: [] }), limits))?.rawMessage).toMatch(
      /keys/,
    );
    const many = create(IntersectRequestSchema, {
      keys: Array.from({ length: MAX_SET_KEYS + 1 }, () => 'k'),
    });
    expect(errorOf(() => v.intersect?.(many, limits))?.code).toBe(Code.InvalidArgument);
    const bad = create(DifferenceRequestSchema, { keys: ['a', ''] });
    expect(errorOf(() => v.difference?.(bad, limits))?.rawMessage).toMatch(/keys\[1\]/);
    expect(errorOf(() => v.union?.(create(UnionRequestSchema, { keys: ['a'] }), limits))).toBeUndefined();
  });
  it('checks the destination of the Store variants', () => {
    const req = create(UnionStoreRequestSchema, { destination: '', keys: ['a'] });
    expect(errorOf(() => v.unionStore?.(req, limits))?.rawMessage).toMatch(/destination/);
  });
});

describe('combine', () => {
  const s = (...xs: string[]) => new Map(xs.map((x) => [x, x]));
  it('computes union, intersection and difference', () => {
    const sets = [s('1', '2', '3'), s('2', '3', '4'), s('3', '5')];
    expect([...combine('union', sets).keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect([...combine('intersect', sets).keys()]).toEqual(['3']);
    expect([...combine('difference', sets).keys()]).toEqual(['1']);
    expect(combine('union', []).size).toBe(0);
  });
});
