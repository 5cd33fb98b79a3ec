import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  CountRequestSchema,
  effectivePageSize,
  KeyValueScan,
  MAX_PAGE_SIZE,
  ScanKeysRequestSchema,
  ScanRequestSchema,
} from './index.js';

const codeOf = (fn: () => void): Code | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
};

describe('KeyValueScan validators', () => {
  const v = KeyValueScan.validate;
  it('accepts the empty prefix and page sizes up to the maximum', () => {
    const req = create(ScanRequestSchema, { prefix: '', pageSize: MAX_PAGE_SIZE });
    expect(codeOf(() => v.scan?.(req, DEFAULT_LIMITS))).toBeUndefined();
    expect(
      codeOf(() => v.count?.(create(CountRequestSchema, { prefix: '' }), DEFAULT_LIMITS)),
    ).toBeUndefined();
  });
  it('rejects page sizes over the maximum and over-limit prefixes', () => {
    const big = create(ScanKeysRequestSchema, { prefix: 'a', pageSize: MAX_PAGE_SIZE + 1 });
    expect(codeOf(() => v.scanKeys?.(big, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    const long = create(CountRequestSchema, { prefix: 'x'.repeat(DEFAULT_LIMITS.maxKeyBytes + 1) });
    expect(codeOf(() => v.count?.(long, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
  });
  it('resolves page_size 0 to the default', () => {
    expect(effectivePageSize(0)).toBe(100);
    expect(effectivePageSize(7)).toBe(7);
  });
});
