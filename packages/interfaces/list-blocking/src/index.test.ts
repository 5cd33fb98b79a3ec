import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  BlockingPopLeftRequestSchema,
  blockingWaitMs,
  ListBlocking,
  MAX_BLOCKING_KEYS,
  MAX_BLOCKING_TIMEOUT_MS,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

describe('ListBlocking validators', () => {
  const check = (keys: string[], timeoutMs: bigint) =>
    errorOf(() =>
      ListBlocking.validate.blockingPopLeft?.(
        create(BlockingPopLeftRequestSchema, { keys, timeoutMs }),
        DEFAULT_LIMITS,
      ),
    );
  it('accepts 1 to 16 keys and timeouts from 0 to the maximum', () => {
    expect(check(['a'], 0n)).toBeUndefined();
    expect(
      check(
        Array.from({ length: MAX_BLOCKING_KEYS }, (_, i) => `k${i}`),
        BigInt(MAX_BLOCKING_TIMEOUT_MS),
      ),
    ).toBeUndefined();
  });
  it('names the offending field', () => {
    expect(check([], 0n)?.rawMessage).toMatch(/^keys/);
    expect(check(['a', ''], 0n)?.rawMessage).toMatch(/^keys\[1\]/);
    expect(
      check(
        Array.from({ length: MAX_BLOCKING_KEYS + 1 }, (_, i) => `k${i}`),
        0n,
      )?.code,
    ).toBe(Code.InvalidArgument);
    expect(check(['a'], -1n)?.rawMessage).toMatch(/^timeout_ms/);
    expect(check(['a'], BigInt(MAX_BLOCKING_TIMEOUT_MS) + 1n)?.rawMessage).toMatch(/^timeout_ms/);
  });
});

describe('blockingWaitMs', () => {
  it('caps the wait and honours the deadline', () => {
    expect(blockingWaitMs(0n, undefined, 1000)).toBe(MAX_BLOCKING_TIMEOUT_MS);
    expect(blockingWaitMs(500n, undefined, 1000)).toBe(500);
    expect(blockingWaitMs(0n, 1200, 1000)).toBe(200);
    expect(blockingWaitMs(5000n, 1200, 1000)).toBe(200);
    expect(blockingWaitMs(100n, 1200, 1000)).toBe(100);
    expect(blockingWaitMs(100n, 900, 1000)).toBeLessThanOrEqual(0);
  });
});
