import { create, fromJson, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { FilterSchema } from '@prism/proto/prism/common/v1/filter_pb';
import { Code, ConnectError } from './errors.js';
import {
  checkFilter,
  compileFilter,
  FILTER_LIMITS,
  type Filter,
  filterFields,
  parseFilterNumber,
} from './filter.js';

type Init = MessageInitShape<typeof FilterSchema>;
const f = (init: Init): Filter => create(FilterSchema, init);
const eq = (field: string, value: string): Init => ({ condition: { case: 'eq', value: { field, value } } });
const num = (op: 'lt' | 'le' | 'gt' | 'ge', field: string, value: number): Init => ({
  condition: { case: op, value: { field, value } },
});
const and = (...filters: Init[]): Init => ({ condition: { case: 'and', value: { filters } } });
const or = (...filters: Init[]): Init => ({ condition: { case: 'or', value: { filters } } });
const not = (value: Init): Init => ({ condition: { case: 'not', value } });
const exists = (field: string): Init => ({ condition: { case: 'exists', value: { field } } });

const errorOf = (fn: () => unknown): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const matches = (init: Init, fields: Record<string, string>) => compileFilter(f(init))(fields);

describe('compileFilter semantics', () => {
  const m = { region: 'eu-west', priority: '7', empty: '', ratio: '-1.5e1', word: 'seven' };

  it('eq / ne compare exactly; ne is true for an absent field', () => {
    expect(matches(eq('region', 'eu-west'), m)).toBe(true);
    expect(matches(eq('region', 'EU-WEST'), m)).toBe(false);
    expect(matches(eq('missing', ''), m)).toBe(false);
    expect(matches(eq('empty', ''), m)).toBe(true);
    const ne = (field: string, value: string): Init => ({
      condition: { case: 'ne', value: { field, value } },
    });
    expect(matches(ne('region', 'us'), m)).toBe(true);
    expect(matches(ne('region', 'eu-west'), m)).toBe(false);
    expect(matches(ne('missing', 'x'), m)).toBe(true);
  });

  it('numeric comparisons parse the field; absent or non-numeric values never match', () => {
    expect(matches(num('gt', 'priority', 5), m)).toBe(true);
    expect(matches(num('ge', 'priority', 7), m)).toBe(true);
    expect(matches(num('gt', 'priority', 7), m)).toBe(false);
    expect(matches(num('le', 'priority', 7), m)).toBe(true);
    expect(matches(num('lt', 'priority', 7), m)).toBe(false);
    expect(matches(num('lt', 'ratio', -10), m)).toBe(true);
    // Numeric, not lexicographic: "7" < "10".
    expect(matches(num('lt', 'priority', 10), m)).toBe(true);
    for (const op of ['lt', 'le', 'gt', 'ge'] as const) {
      expect(matches(num(op, 'word', 0), m)).toBe(false);
      expect(matches(num(op, 'empty', 0), m)).toBe(false);
      expect(matches(num(op, 'missing', 0), m)).toBe(false);
    }
    // not(lt) is true for a non-number: use exists + the opposite comparison to mean "numerically >=".
    expect(matches(not(num('lt', 'word', 0)), m)).toBe(true);
  });

  it('parses only plain decimal numbers', () => {
    for (const [s, n] of [
      ['42', 42],
      ['-1.5', -1.5],
      ['+3', 3],
      ['2e3', 2000],
      ['.5', 0.5],
      ['5.', 5],
      ['1E-2', 0.01],
    ] as const)
      expect(parseFilterNumber(s)).toBe(n);
    for (const s of [
      '',
      ' 1',
      '1 ',
      '0x10',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e',
      '1_000',
      '--1',
      '.',
      '1e999',
    ])
      expect(parseFilterNumber(s)).toBeUndefined();
  });

  it('startswith, in and exists', () => {
    const sw = (field: string, prefix: string): Init => ({
      condition: { case: 'startswith', value: { field, prefix } },
    });
    expect(matches(sw('region', 'eu-'), m)).toBe(true);
    expect(matches(sw('region', 'us-'), m)).toBe(false);
    expect(matches(sw('region', ''), m)).toBe(true);
    expect(matches(sw('missing', ''), m)).toBe(false);
    const inF = (field: string, values: string[]): Init => ({
      condition: { case: 'in', value: { field, values } },
    });
    expect(matches(inF('region', ['us', 'eu-west']), m)).toBe(true);
    expect(matches(inF('region', ['us', 'eu']), m)).toBe(false);
    expect(matches(inF('missing', ['']), m)).toBe(false);
    expect(matches(exists('empty'), m)).toBe(true);
    expect(matches(exists('missing'), m)).toBe(false);
  });

  it('and / or / not combine, nested', () => {
    const filter = and(
      eq('region', 'eu-west'),
      or(num('gt', 'priority', 8), exists('empty')),
      not(exists('test')),
    );
    expect(matches(filter, m)).toBe(true);
    expect(matches(filter, { ...m, test: '1' })).toBe(false);
    expect(matches(filter, { region: 'eu-west', priority: '9' })).toBe(true);
    expect(matches(filter, { region: 'eu-west', priority: '3' })).toBe(false);
    expect(matches(not(not(eq('region', 'eu-west'))), m)).toBe(true);
  });

  it('accepts Maps, and only reads own properties of records', () => {
    const p = compileFilter(f(exists('constructor')));
    expect(p({})).toBe(false);
    expect(p({ constructor: 'x' })).toBe(true);
    expect(compileFilter(f(eq('toString', 'x')))({})).toBe(false);
    expect(compileFilter(f(eq('a', '1')))(new Map([['a', '1']]))).toBe(true);
    expect(compileFilter(f(eq('a', '1')))(new Map([['b', '1']]))).toBe(false);
  });

  it('handles unicode field names and values', () => {
    expect(matches(eq('grüße', '✓ ok'), { grüße: '✓ ok' })).toBe(true);
    expect(matches(eq('grüße', '✓ ok'), { grüsse: '✓ ok' })).toBe(false);
  });

  it('reads the JSON form documented in the proto', () => {
    const filter = fromJson(FilterSchema, {
      and: {
        filters: [
          { eq: { field: 'region', value: 'eu' } },
          { ge: { field: 'priority', value: 5 } },
          { not: { exists: { field: 'test' } } },
        ],
      },
    });
    const p = compileFilter(filter);
    expect(p({ region: 'eu', priority: '5' })).toBe(true);
    expect(p({ region: 'eu', priority: '4' })).toBe(false);
    expect(p({ region: 'eu', priority: '5', test: '' })).toBe(false);
  });

  it('lists the fields it reads', () => {
    expect([...filterFields(f(and(eq('a', '1'), not(exists('b')), or(num('lt', 'c', 1)))))]).toEqual([
      'a',
      'b',
      'c',
    ]);
  });
});

describe('checkFilter', () => {
  const message = (init: Init | undefined, path?: string) => {
    const err = errorOf(() => checkFilter(init === undefined ? undefined : f(init), path));
    expect(err?.code).toBe(Code.InvalidArgument);
    return err?.rawMessage;
  };

  it('requires a filter and a condition in every node, naming the path', () => {
    expect(message(undefined)).toBe('filter is required');
    expect(message({})).toMatch(/^filter: no condition set/);
    expect(message(and(eq('a', '1'), {}))).toMatch(/^filter\.and\[1\]: no condition set/);
    expect(message(not({}), 'request.where')).toMatch(/^request\.where\.not: no condition set/);
  });

  it('names the path of a missing field', () => {
    expect(message(and(eq('a', '1'), num('lt', '', 3)))).toBe('filter.and[1].lt: field is required');
    expect(message(or(not(exists(''))))).toBe('filter.or[0].not.exists: field is required');
    expect(message({ condition: { case: 'in', value: { field: '', values: ['x'] } } })).toMatch(
      /filter\.in: field/,
    );
  });

  it('rejects control characters and over-long field names', () => {
    expect(message(eq('a\nb', '1'))).toMatch(/filter\.eq: field must not contain control characters/);
    expect(message(eq('x'.repeat(FILTER_LIMITS.maxFieldChars + 1), '1'))).toMatch(/at most 256/);
    expect(errorOf(() => checkFilter(f(eq('x'.repeat(FILTER_LIMITS.maxFieldChars), '1'))))).toBeUndefined();
  });

  it('rejects non-finite numbers, empty in and empty and/or', () => {
    expect(message(num('gt', 'p', Number.NaN))).toMatch(/filter\.gt: value must be a finite number/);
    expect(message(num('le', 'p', Number.POSITIVE_INFINITY))).toMatch(/finite/);
    expect(message({ condition: { case: 'in', value: { field: 'a', values: [] } } })).toMatch(
      /filter\.in: values must contain at least one value/,
    );
    expect(message(and())).toMatch(/filter\.and: filters must contain at least one filter/);
    expect(message(not(or()))).toMatch(/filter\.not\.or: filters/);
  });

  it('limits depth', () => {
    let deep: Init = eq('a', '1');
    for (let i = 1; i < FILTER_LIMITS.maxDepth; i++) deep = not(deep);
    expect(errorOf(() => checkFilter(f(deep)))).toBeUndefined();
    expect(message(not(deep))).toMatch(/deeper than 16 levels/);
    expect(message(and(deep))).toMatch(/^filter\.and\[0\]\.not\.not.*deeper than 16/);
  });

  it('limits nodes, operands, in-values and total string size', () => {
    const wide = (n: number) => or(...Array.from({ length: n }, (_, i) => eq('a', String(i))));
    expect(errorOf(() => checkFilter(f(wide(256))))).toBeUndefined();
    expect(message(wide(257))).toMatch(/filter\.or: filters has 257 entries; at most 256/);
    // 5 × (1 + 256) nodes > 1024.
    expect(message(and(...Array.from({ length: 5 }, () => wide(256))))).toMatch(/more than 1024 nodes/);
    const manyIn = Array.from({ length: 1025 }, (_, i) => String(i));
    expect(message({ condition: { case: 'in', value: { field: 'a', values: manyIn } } })).toMatch(
      /at most 1024/,
    );
    const big = 'x'.repeat(40 * 1024);
    expect(message(and(eq('a', big), eq('b', big)))).toMatch(
      /^filter\.and\[1\]\.eq: .*exceed 65536 characters/,
    );
  });

  it('compileFilter validates too', () => {
    expect(errorOf(() => compileFilter(f({})))?.code).toBe(Code.InvalidArgument);
    expect(errorOf(() => compileFilter(undefined, 'where'))?.rawMessage).toBe('where is required');
  });
});
