import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import { CardRequestSchema, MultiIsMemberRequestSchema, SetCardinality } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SetCardinality validators', () => {
  const v = SetCardinality.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('checks the key of Card', () => {
    expect(errorOf(() => v.card?.(create(CardRequestSchema, { key: '' }), limits))?.code).toBe(
      Code.InvalidArgument,
    );
    expect(errorOf(() => v.card?.(create(CardRequestSchema, { key: 'k' }), limits))).toBeUndefined();
  });
  it('needs at least one member within the limit for MultiIsMember', () => {
    const none = create(MultiIsMemberRequestSchema, { key: 'k' });
    expect(errorOf(() => v.multiIsMember?.(none, limits))?.rawMessage).toMatch(/members/);
    const big = create(MultiIsMemberRequestSchema, { key: 'k', members: [new Uint8Array(5)] });
    expect(errorOf(() => v.multiIsMember?.(big, limits))?.rawMessage).toMatch(/members\[0\]/);
  });
});
