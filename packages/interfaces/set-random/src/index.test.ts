import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import { MAX_RANDOM_COUNT, PopRequestSchema, RandomMemberRequestSchema, SetRandom } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SetRandom validators', () => {
  const v = SetRandom.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('accepts counts from 1 to the maximum', () => {
    for (const count of [1, MAX_RANDOM_COUNT])
      expect(errorOf(() => v.pop?.(create(PopRequestSchema, { key: 'k', count }), limits))).toBeUndefined();
  });
  it('rejects count 0 and counts above the maximum, naming the field', () => {
    for (const count of [0, MAX_RANDOM_COUNT + 1]) {
      const err = errorOf(() =>
        v.randomMember?.(create(RandomMemberRequestSchema, { key: 'k', count }), limits),
      );
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/count/);
    }
  });
  it('checks the key', () => {
    expect(errorOf(() => v.pop?.(create(PopRequestSchema, { key: '', count: 1 }), limits))?.code).toBe(
      Code.InvalidArgument,
    );
  });
});
