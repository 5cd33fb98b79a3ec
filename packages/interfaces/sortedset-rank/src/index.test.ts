import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { ConnectError } from '@prism/sdk';
import { RankRequestSchema, RevRankRequestSchema, SortedSetRank } from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SortedSetRank validators', () => {
  const v = SortedSetRank.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('checks the key and the member size', () => {
    expect(
      errorOf(() => v.rank?.(create(RankRequestSchema, { key: 'k', member: new Uint8Array(4) }), limits)),
    ).toBeUndefined();
    expect(
      errorOf(() => v.rank?.(create(RankRequestSchema, { key: 'k', member: new Uint8Array(5) }), limits))
        ?.rawMessage,
    ).toMatch(/member/);
    expect(errorOf(() => v.revRank?.(create(RevRankRequestSchema, { key: '' }), limits))?.rawMessage).toMatch(
      /key/,
    );
  });
});
