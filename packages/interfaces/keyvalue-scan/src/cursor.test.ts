import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import { decodeCursor, encodeCursor, prefixSuccessor } from './cursor.js';

describe('prefixSuccessor', () => {
  it('increments the last code point', () => {
    expect(prefixSuccessor('ab')).toBe('ac');
    expect(prefixSuccessor('a%')).toBe('a&');
    expect(prefixSuccessor('é')).toBe('ê');
  });

  it('skips the surrogate range and handles astral characters', () => {
    expect(prefixSuccessor('\uD7FF')).toBe('\uE000');
    expect(prefixSuccessor('🔑')).toBe('🔒');
  });

  it('carries past U+10FFFF and has no successor for the empty prefix', () => {
    expect(prefixSuccessor('a\u{10FFFF}')).toBe('b');
    expect(prefixSuccessor('\u{10FFFF}')).toBeUndefined();
    expect(prefixSuccessor('')).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trip any key', () => {
    for (const key of ['a', 'user:42/x', '键🔑', ' ']) expect(decodeCursor(encodeCursor(key))).toBe(key);
    expect(decodeCursor('')).toBeUndefined();
  });

  it('reject garbage with INVALID_ARGUMENT', () => {
    for (const bad of ['%%', 'a b', '_w', Buffer.from('a\u0000b').toString('base64url'), '__8']) {
      let err: unknown;
      try {
        decodeCursor(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });

  it('reject keys a scan could not have returned: outside the prefix, or over the key limit', () => {
    const limits = { maxKeyBytes: 8, maxValueBytes: 1024 };
    expect(decodeCursor(encodeCursor('a/12345'), 'a/', limits)).toBe('a/12345');
    for (const [cursor, prefix] of [
      [encodeCursor('b/1'), 'a/'],
      [encodeCursor('a/123456789'), 'a/'],
      [encodeCursor('a'), 'a/'],
    ] as const) {
      let err: unknown;
      try {
        decodeCursor(cursor, prefix, limits);
      } catch (e) {
        err = e;
      }
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});
