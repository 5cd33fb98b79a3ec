import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  GetRetentionRequestSchema,
  RETENTION_BOUNDS,
  RetentionPolicySchema,
  SetRetentionRequestSchema,
  StreamRetention,
  TrimStreamRequestSchema,
  unsupportedLimit,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('StreamRetention validators', () => {
  const v = StreamRetention.validate;
  const set = (policy?: Parameters<typeof create<typeof RetentionPolicySchema>>[1]) =>
    errorOf(() =>
      v.setRetention?.(
        create(SetRetentionRequestSchema, {
          stream: 's',
          policy: policy === undefined ? undefined : create(RetentionPolicySchema, policy),
        }),
        DEFAULT_LIMITS,
      ),
    );
  it('requires a policy and bounds its max age', () => {
    expect(set()?.rawMessage).toMatch(/policy is required/);
    expect(set({ maxAgeMs: -1n })?.rawMessage).toMatch(/max_age_ms must not be negative/);
    expect(set({ maxAgeMs: BigInt(RETENTION_BOUNDS.maxAgeMs) + 1n })?.rawMessage).toMatch(/max_age_ms/);
    expect(set({})).toBeUndefined();
    expect(set({ maxAgeMs: 1000n, maxRecords: 5n, maxBytes: 1n << 40n })).toBeUndefined();
  });
  it('checks the stream name and the trim timestamp', () => {
    expect(
      errorOf(() => v.getRetention?.(create(GetRetentionRequestSchema, { stream: '' }), DEFAULT_LIMITS))
        ?.code,
    ).toBe(Code.InvalidArgument);
    expect(
      errorOf(() =>
        v.trimStream?.(
          create(TrimStreamRequestSchema, { stream: 's', beforeTimestampMs: -1n }),
          DEFAULT_LIMITS,
        ),
      )?.rawMessage,
    ).toMatch(/before_timestamp_ms/);
    expect(
      errorOf(() =>
        v.trimStream?.(create(TrimStreamRequestSchema, { stream: 's', keepLast: 3n }), DEFAULT_LIMITS),
      ),
    ).toBeUndefined();
  });
  it('names the unsupported field and the backend', () => {
    const err = unsupportedLimit('maxBytes', 'redis', 'streams are trimmed by count or id');
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/policy\.max_bytes is not supported by the redis backend/);
  });
});
