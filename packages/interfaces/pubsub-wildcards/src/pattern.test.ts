import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import { checkPattern, hasWildcards, patternToGlob, patternToRegExp, topicMatches } from './pattern.js';

const cases: [string, string, boolean][] = [
  ['a.*', 'a.b', true],
  ['a.*', 'a', false],
  ['a.*', 'a.b.c', false],
  ['a.>', 'a.b', true],
  ['a.>', 'a.b.c', true],
  ['a.>', 'a', false],
  ['>', 'a', true],
  ['>', 'a.b', true],
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.b.d', false],
  ['*.*.>', 'a.b', false],
  ['*.*.>', 'a.b.c', true],
  ['a.b', 'a.b', true],
  ['a.b', 'a.bc', false],
];

describe('wildcard patterns', () => {
  it.each(cases)('%s vs %s → %s (topicMatches and patternToRegExp agree)', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
    expect(patternToRegExp(pattern).test(topic)).toBe(expected);
  });

  it('accepts valid patterns and rejects invalid ones with INVALID_ARGUMENT', () => {
    for (const ok of ['a', 'a.*', 'a.>', '>', '*', 'a-b_c.*.d']) expect(() => checkPattern(ok)).not.toThrow();
    for (const bad of ['', 'a..b', 'a.>.b', 'a*', '.a', 'a.', 'a b']) {
      try {
        checkPattern(bad);
        throw new Error(`accepted ${bad}`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      }
    }
  });

  it('detects wildcards and builds a Redis glob superset with an escaped prefix', () => {
    expect(hasWildcards('a.b')).toBe(false);
    expect(hasWildcards('a.*')).toBe(true);
    expect(patternToGlob('a.*.>', 'ns[1]:')).toBe('ns\\[1\\]:a.*.*');
  });
});
