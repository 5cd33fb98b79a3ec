import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from './errors.js';
import { checkKey, checkValue, DEFAULT_LIMITS } from './limits.js';

const codeOf = (fn: () => void): Code | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
};

describe('limits', () => {
  it('accepts keys up to the limit in UTF-8 bytes', () => {
    expect(codeOf(() => checkKey('a'.repeat(1024), DEFAULT_LIMITS))).toBeUndefined();
    expect(codeOf(() => checkKey('a'.repeat(1025), DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    expect(codeOf(() => checkKey('é'.repeat(513), DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
  });
  it('rejects empty keys and NUL characters', () => {
    expect(codeOf(() => checkKey('', DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
    expect(codeOf(() => checkKey('a\u0000b', DEFAULT_LIMITS))).toBe(Code.InvalidArgument);
  });
  it('rejects values over the limit', () => {
    const limits = { maxKeyBytes: 10, maxValueBytes: 4 };
    expect(codeOf(() => checkValue(new Uint8Array(4), limits))).toBeUndefined();
    expect(codeOf(() => checkValue(new Uint8Array(5), limits))).toBe(Code.InvalidArgument);
  });
});
