import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError } from '@prism/sdk';
import { f } from './conformance.js';
import {
  canonicalNumber,
  collectPage,
  compareCodePoints,
  compareForSort,
  compileQuery,
  DocumentQuery,
  decodeCursor,
  documentFields,
  encodeCursor,
  formatPath,
  type JsonObject,
  parsePath,
  project,
  QueryRequestSchema,
  type StoredDocument,
  sortTupleOf,
} from './index.js';

const errorOf = (fn: () => unknown): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const limits = { maxKeyBytes: 8, maxValueBytes: 32 };

describe('paths', () => {
  it("splits on '.', with '\\' escaping '.' and '\\'", () => {
    expect(parsePath('a.b.c')).toEqual(['a', 'b', 'c']);
    expect(parsePath('a\\.b.c')).toEqual(['a.b', 'c']);
    expect(parsePath('a\\\\.b')).toEqual(['a\\', 'b']);
    expect(parsePath('_id')).toEqual(['_id']);
    for (const names of [['a.b', 'c\\d'], ['x'], ['.', '\\', '..\\.']])
      expect(parsePath(formatPath(names))).toEqual(names);
  });
  it('rejects empty names, dangling or unknown escapes, control characters and long paths', () => {
    for (const bad of ['', '.', 'a.', '.a', 'a..b', 'a\\', 'a\\b', 'a\nb', 'x'.repeat(257)])
      expect(errorOf(() => parsePath(bad, 'sort[0].path'))?.rawMessage).toMatch(/^sort\[0\]\.path/);
  });
});

describe('documentFields', () => {
  it('exposes scalar leaves through objects only, numbers as JSON.stringify prints them, and _id', () => {
    const doc = JSON.parse(
      '{"s":"x","n":1e21,"m":-0.5,"t":true,"f":false,"z":null,"o":{"a.b":{"c":1}},"arr":[1,{"x":2}],"e":{}}',
    ) as JsonObject;
    expect(Object.fromEntries(documentFields(doc, 'id1'))).toEqual({
      s: 'x',
      n: '1e+21',
      m: '-0.5',
      t: 'true',
      f: 'false',
      'o.a\\.b.c': '1',
      _id: 'id1',
    });
  });
});

describe('order', () => {
  it('compares strings by code point, not UTF-16 unit', () => {
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
    expect('\uffff' < '😀').toBe(false);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('b', 'ab')).toBeGreaterThan(0);
  });
  it('sorts numbers < strings < booleans, absent last in both directions, then by id', () => {
    const docs: [string, JsonObject][] = [
      ['a', { v: 'x' }],
      ['b', { v: 2 }],
      ['c', {}],
      ['d', { v: true }],
      ['e', { v: -1 }],
      ['f', { v: false }],
      ['g', { v: null }],
    ];
    for (const descending of [false, true]) {
      const sort = [{ path: 'v', names: ['v'], descending }];
      const order = docs
        .map(([id, d]) => sortTupleOf(d, id, sort))
        .sort((x, y) => compareForSort(x, y, sort))
        .map((t) => t.id);
      expect(order).toEqual(
        descending ? ['d', 'f', 'a', 'b', 'e', 'c', 'g'] : ['e', 'b', 'a', 'f', 'd', 'c', 'g'],
      );
    }
  });
});

describe('project', () => {
  it('keeps the given paths, nested as in the document', () => {
    const doc = { a: { b: 1, c: 2 }, d: [1], e: 'x' } as JsonObject;
    expect(project(doc, [['a', 'b'], ['e'], ['missing'], ['d', '0']])).toEqual({ a: { b: 1 }, e: 'x' });
    expect(project(doc, [['a', 'b'], ['a']])).toEqual({ a: { b: 1, c: 2 } });
    expect(project(doc, [['a'], ['a', 'b']])).toEqual({ a: { b: 1, c: 2 } });
  });
});

describe('canonicalNumber', () => {
  it('accepts exactly the text JSON.stringify prints for a number', () => {
    expect(canonicalNumber('5')).toBe(5);
    expect(canonicalNumber('1e+21')).toBe(1e21);
    expect(canonicalNumber('-1.5')).toBe(-1.5);
    for (const s of ['5.0', '1e21', '05', '+5', '.5', 'NaN', 'Infinity', '', ' 5', '0x10'])
      expect(canonicalNumber(s)).toBeUndefined();
  });
});

describe('DocumentQuery validator and cursors', () => {
  const v = DocumentQuery.validate;
  const req = (o: Record<string, unknown>) => create(QueryRequestSchema, o);
  it('bounds sort, projection and limit, and checks paths, naming the field', () => {
    expect(errorOf(() => v.query?.(req({ limit: 1000 }), limits))).toBeUndefined();
    expect(errorOf(() => v.query?.(req({ limit: 1001 }), limits))?.rawMessage).toBe(
      'limit is 1001; at most 1000 allowed',
    );
    expect(
      errorOf(() => v.query?.(req({ sort: Array.from({ length: 9 }, () => ({ path: 'a' })) }), limits))?.code,
    ).toBe(Code.InvalidArgument);
    expect(
      errorOf(() => v.query?.(req({ projection: Array.from({ length: 65 }, () => 'a') }), limits))?.code,
    ).toBe(Code.InvalidArgument);
    expect(errorOf(() => v.query?.(req({ projection: ['a', 'b..c'] }), limits))?.rawMessage).toMatch(
      /^projection\[1\]/,
    );
    expect(
      errorOf(() => v.query?.(req({ filter: f.or(f.eq('a', 'x'), f.not(f.exists('a.'))) }), limits))
        ?.rawMessage,
    ).toMatch(/^filter\.or\[1\]\.not\.exists: field/);
    expect(compileQuery(req({})).limit).toBe(100);
  });
  it('round-trips a cursor of the same query and rejects it for another', () => {
    const q = compileQuery(req({ filter: f.eq('a', 'x'), sort: [{ path: 'n' }] }));
    const cursor = encodeCursor({ values: [3], id: 'd1' }, q.fingerprint);
    expect(/^[A-Za-z0-9_-]+$/.test(cursor)).toBe(true);
    expect(decodeCursor(cursor, 1, q.fingerprint)).toEqual({ values: [3], id: 'd1' });
    expect(compileQuery(req({ filter: f.eq('a', 'x'), sort: [{ path: 'n' }], cursor })).after).toEqual({
      values: [3],
      id: 'd1',
    });
    const other = req({ filter: f.eq('a', 'y'), sort: [{ path: 'n' }], cursor });
    expect(errorOf(() => compileQuery(other))?.rawMessage).toMatch(/another filter, sort or projection/);
    expect(errorOf(() => compileQuery(req({ cursor: 'x!' })))?.code).toBe(Code.InvalidArgument);
    const absent = encodeCursor({ values: [undefined], id: 'z' }, q.fingerprint);
    expect(decodeCursor(absent, 1, q.fingerprint)).toEqual({ values: [undefined], id: 'z' });
  });
  it('collects a page from candidate batches, re-checking the filter, with a cursor only when more match', async () => {
    const rows: StoredDocument[] = Array.from({ length: 10 }, (_, i) => {
      const doc = { n: i, even: i % 2 === 0 };
      return { id: `d${i}`, json: JSON.stringify(doc), version: 1n, doc };
    });
    const q = compileQuery(req({ filter: f.eq('even', 'true'), sort: [{ path: 'n' }], limit: 2 }));
    const fetched: number[] = [];
    // A backend that pushes nothing down: every row is a candidate.
    const fetch = async (after: { values: readonly unknown[] } | undefined, n: number) => {
      const start = after === undefined ? 0 : (after.values[0] as number) + 1;
      fetched.push(start);
      return rows.slice(start, start + n);
    };
    const page = await collectPage(q, fetch);
    expect(page.documents.map((d) => d.id)).toEqual(['d0', 'd2']);
    expect(page.nextCursor).not.toBe('');
    expect(fetched).toEqual([0, 3]);
    const last = await collectPage(
      compileQuery(
        req({
          filter: f.eq('even', 'true'),
          sort: [{ path: 'n' }],
          limit: 2,
          cursor: encodeCursor({ values: [6], id: 'd6' }, q.fingerprint),
        }),
      ),
      fetch,
    );
    expect(last.documents.map((d) => d.id)).toEqual(['d8']);
    expect(last.nextCursor).toBe('');
  });
});
