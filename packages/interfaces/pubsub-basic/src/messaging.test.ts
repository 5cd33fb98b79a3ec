import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  checkMemberName,
  checkMetadata,
  checkMillis,
  checkOutgoing,
  checkTokens,
  checkTopic,
} from './messaging.js';

function code(fn: () => void): Code | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ConnectError ? err.code : undefined;
  }
}

describe('messaging input rules', () => {
  it('accepts dotted topic names and rejects malformed ones', () => {
    for (const ok of ['a', 'orders.eu.created', 'A-b_9', 'x'.repeat(128)])
      expect(code(() => checkTopic(ok))).toBe(undefined);
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.*', 'a.>', 'ü', 'x'.repeat(129)])
      expect(code(() => checkTopic(bad))).toBe(Code.InvalidArgument);
  });

  it('checks member names', () => {
    expect(code(() => checkMemberName('worker-1_a', 'consumer'))).toBe(undefined);
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(65)])
      expect(code(() => checkMemberName(bad, 'group'))).toBe(Code.InvalidArgument);
  });

  it('checks metadata keys, values and size', () => {
    expect(code(() => checkMetadata({ 'content-type': 'x', a_b: 'ü', 'v.1': '' }))).toBe(undefined);
    const bad: Record<string, string>[] = [
      { A: 'x' },
      { '-a': 'x' },
      { 'prism-x': 'x' },
      { a: 'x\r' },
      { a: 'x'.repeat(9000) },
    ];
    for (const m of bad) expect(code(() => checkMetadata(m))).toBe(Code.InvalidArgument);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, '']));
    expect(code(() => checkMetadata(many))).toBe(Code.InvalidArgument);
  });

  it('checks payload size against the namespace limit', () => {
    const limits = { ...DEFAULT_LIMITS, maxValueBytes: 4 };
    expect(code(() => checkOutgoing({ payload: new Uint8Array(4), metadata: {} }, limits))).toBe(undefined);
    expect(code(() => checkOutgoing({ payload: new Uint8Array(5), metadata: {} }, limits))).toBe(
      Code.InvalidArgument,
    );
  });

  it('checks durations and token lists', () => {
    expect(code(() => checkMillis(0n, 'wait_ms', 10))).toBe(undefined);
    expect(code(() => checkMillis(0n, 'visibility_timeout_ms', 10, false))).toBe(Code.InvalidArgument);
    expect(code(() => checkMillis(-1n, 'wait_ms', 10))).toBe(Code.InvalidArgument);
    expect(code(() => checkMillis(11n, 'wait_ms', 10))).toBe(Code.InvalidArgument);
    expect(code(() => checkTokens([], 'receipts'))).toBe(Code.InvalidArgument);
    expect(code(() => checkTokens([''], 'receipts'))).toBe(Code.InvalidArgument);
    expect(code(() => checkTokens(['r1'], 'receipts'))).toBe(undefined);
  });
});
