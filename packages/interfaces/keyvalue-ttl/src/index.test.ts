import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import { ExpireRequestSchema, KeyValueTTL, MAX_TTL_MS, SetWithTTLRequestSchema } from './index.js';

const codeOf = (fn: () => void): Code | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
};

describe('KeyValueTTL validators', () => {
  const v = KeyValueTTL.validate;
  it('accepts positive TTLs up to the maximum', () => {
    const ok = create(SetWithTTLRequestSchema, { key: 'k', ttlMs: 1n });
    expect(codeOf(() => v.setWithTTL?.(ok, DEFAULT_LIMITS))).toBeUndefined();
    const max = create(ExpireRequestSchema, { key: 'k', ttlMs: MAX_TTL_MS });
    expect(codeOf(() => v.expire?.(max, DEFAULT_LIMITS))).toBeUndefined();
  });
  it('rejects zero, negative and oversized TTLs', () => {
    for (const ttlMs of [0n, -1n, MAX_TTL_MS + 1n]) {
      const req = create(ExpireRequestSchema, { key: 'k', ttlMs });
      expect(codeOf(() => v.expire?.(req, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    }
  });
  it('checks key and value', () => {
    const noKey = create(SetWithTTLRequestSchema, { key: '', ttlMs: 1n });
    expect(codeOf(() => v.setWithTTL?.(noKey, DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    const big = create(SetWithTTLRequestSchema, { key: 'k', ttlMs: 1n, value: new Uint8Array(5) });
    expect(codeOf(() => v.setWithTTL?.(big, { maxKeyBytes: 10, maxValueBytes: 4 }))).toBe(
      Code.InvalidArgument,
    );
  });
});
