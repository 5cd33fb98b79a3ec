import { describe, expect, it } from '@jest/globals';
import { didYouMean, formatPairs, formatTable, mark } from './output.js';

describe('output', () => {
  it('formats a table: columns two spaces apart, multi-line cells, no trailing spaces', () => {
    expect(
      formatTable(
        ['TYPE', 'OK', 'INTERFACES'],
        [
          ['memstore', '✓', 'keyvalue: basic\nlist: basic'],
          ['redis', '', 'keyvalue: basic'],
        ],
      ),
    ).toBe(
      [
        'TYPE      OK  INTERFACES',
        'memstore  ✓   keyvalue: basic',
        '              list: basic',
        'redis         keyvalue: basic',
      ].join('\n'),
    );
  });

  it('aligns pairs, marks checks and suggests close names', () => {
    expect(
      formatPairs(
        [
          ['✓ a', '(x)'],
          ['✗ bbb', '(y)'],
        ],
        '  ',
      ),
    ).toBe('  ✓ a    (x)\n  ✗ bbb  (y)');
    expect([mark(true), mark(false), mark(null)]).toEqual(['✓', '✗', '?']);
    expect(didYouMean('redys', ['redis', 'nats'])).toBe(' (did you mean "redis"?)');
    expect(didYouMean('zzzzzz', ['redis', 'nats'])).toBe('');
  });
});
