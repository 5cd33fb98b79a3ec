import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { ConnectError } from '@prism/sdk';
import {
  LexBoundSchema,
  LexCountRequestSchema,
  MAX_RANGE_ENTRIES,
  RangeByLexRequestSchema,
  SortedSetLex,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('SortedSetLex validators', () => {
  const v = SortedSetLex.validate;
  const limits = { maxKeyBytes: 16, maxValueBytes: 4 };
  it('checks bound sizes and the limit, naming the field', () => {
    const big = create(LexBoundSchema, { value: new Uint8Array(5) });
    expect(
      errorOf(() => v.rangeByLex?.(create(RangeByLexRequestSchema, { key: 'k', min: big }), limits))
        ?.rawMessage,
    ).toMatch(/min\.value/);
    expect(
      errorOf(() => v.lexCount?.(create(LexCountRequestSchema, { key: 'k', max: big }), limits))?.rawMessage,
    ).toMatch(/max\.value/);
    expect(
      errorOf(() =>
        v.rangeByLex?.(create(RangeByLexRequestSchema, { key: 'k', limit: MAX_RANGE_ENTRIES + 1 }), limits),
      )?.rawMessage,
    ).toMatch(/limit/);
    expect(
      errorOf(() => v.rangeByLex?.(create(RangeByLexRequestSchema, { key: 'k' }), limits)),
    ).toBeUndefined();
  });
});
