import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  checkWriteRetention,
  compareCodePoints,
  comparePoints,
  floorDiv,
  inBatches,
  matchesSelector,
  PointSchema,
  QueryRequestSchema,
  retentionCutoffNs,
  SeriesSelectorSchema,
  sameTags,
  type Tags,
  TimeSeriesBasic,
  tagKey,
  WriteRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};

const point = (series: string, tags: Tags, ts: bigint, value: number) =>
  create(PointSchema, { series, tags: { ...tags }, timestampNs: ts, value });
const write = (...points: ReturnType<typeof point>[]) =>
  errorOf(() => TimeSeriesBasic.validate.write?.(create(WriteRequestSchema, { points }), DEFAULT_LIMITS));
const query = (
  init: Partial<{ series: string; tags: Tags; startNs: bigint; endNs: bigint; batchSize: number }>,
) =>
  errorOf(() =>
    TimeSeriesBasic.validate.query?.(
      create(QueryRequestSchema, {
        selector: create(SeriesSelectorSchema, {
          series: init.series ?? 's',
          tags: { ...(init.tags ?? {}) },
        }),
        startNs: init.startNs ?? 0n,
        endNs: init.endNs ?? 1n,
        batchSize: init.batchSize ?? 0,
      }),
      DEFAULT_LIMITS,
    ),
  );

describe('TimeSeriesBasic validators', () => {
  it('accepts valid points at the limits', () => {
    const tags: Record<string, string> = {};
    for (let i = 0; i < 31; i++) tags[`t${i}`] = '';
    tags['n'.repeat(256)] = 'é'.repeat(512);
    expect(write(point('😀'.repeat(256), tags, -(2n ** 63n), -0))).toBeUndefined();
  });

  it('names the first bad point and field', () => {
    const ok = point('s', {}, 1n, 1);
    const cases: [ReturnType<typeof point>, RegExp][] = [
      [point('s', {}, 1n, Number.NaN), /^points\[2\]\.value/],
      [point('s', {}, 1n, Number.NEGATIVE_INFINITY), /^points\[2\]\.value/],
      [point('', {}, 1n, 1), /^points\[2\]\.series/],
      [point('x'.repeat(257), {}, 1n, 1), /^points\[2\]\.series is 257 characters/],
      [point('a\u007fb', {}, 1n, 1), /^points\[2\]\.series.*control/],
      [point('s', { '': '' }, 1n, 1), /^points\[2\]\.tags\[""\]/],
      [point('s', { 'a\u009f': '' }, 1n, 1), /^points\[2\]\.tags\["a/],
      [point('s', { k: 'x'.repeat(1025) }, 1n, 1), /^points\[2\]\.tags\["k"\] is 1025 bytes/],
      [
        point('s', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [String(i), ''])), 1n, 1),
        /33 tags/,
      ],
    ];
    for (const [bad, message] of cases) {
      const err = write(ok, ok, bad, point('s', {}, 1n, Number.NaN));
      expect(err?.code).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(message);
    }
  });

  it('needs 1..10000 points', () => {
    expect(write()?.rawMessage).toMatch(/at least one point/);
    const many = Array.from({ length: 10_001 }, (_, i) => point('s', {}, BigInt(i), i));
    expect(write(...many)?.rawMessage).toMatch(/10001 points; at most 10000/);
    expect(write(...many.slice(1))).toBeUndefined();
  });

  it('checks Query: selector, range and batch size', () => {
    expect(query({})).toBeUndefined();
    expect(query({ startNs: 1n, endNs: 1n })?.rawMessage).toMatch(/start_ns/);
    expect(query({ series: '' })?.rawMessage).toMatch(/selector\.series/);
    expect(query({ tags: { '\n': 'x' } })?.rawMessage).toMatch(/selector\.tags/);
    expect(query({ batchSize: 10_000 })).toBeUndefined();
    expect(query({ batchSize: 10_001 })?.rawMessage).toMatch(/batch_size/);
    const noSelector = errorOf(() =>
      TimeSeriesBasic.validate.query?.(create(QueryRequestSchema, { endNs: 1n }), DEFAULT_LIMITS),
    );
    expect(noSelector?.rawMessage).toMatch(/selector is required/);
  });
});

describe('tag order', () => {
  it('compares strings by code point (UTF-8 byte order), not UTF-16 units', () => {
    expect(compareCodePoints('\uffff', '😀')).toBe(-1);
    expect(compareCodePoints('😀', '\uffff')).toBe(1);
    expect('\uffff' < '😀').toBe(false); // what plain JS comparison would get wrong
    expect(compareCodePoints('a', 'ab')).toBe(-1);
    expect(compareCodePoints('b', 'ab')).toBe(1);
    expect(compareCodePoints('😀', '😀')).toBe(0);
    expect(compareCodePoints('\u00e9', '\ud7ff')).toBe(-1);
    const words = ['é', 'e', '😀', '\uffff', 'E', '', '\ud7ff', 'ee'];
    const bytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...words].sort(compareCodePoints)).toEqual(bytes);
  });

  it('makes a canonical key: sorted names, name=value pairs, independent of insertion order', () => {
    expect(tagKey({})).toBe('');
    expect(tagKey({ b: '2', a: '1' })).toBe(tagKey({ a: '1', b: '2' }));
    expect(tagKey({ host: 'a' })).toBe('host=a');
  });

  it('orders tag sets as the proto says: pair by pair as "name=value" bytes, prefix first', () => {
    const sets: Tags[] = [
      {},
      { 'a-': '0' },
      { a: '' },
      { a: '1' },
      { a: '1', b: '2' },
      { a: '1', b: '2', c: '' },
      { a: '10' },
      { a: '2' },
      { b: '0' },
      { k: '\uffff' },
      { k: '😀' },
    ];
    const keys = sets.map(tagKey);
    const shuffled = [...keys].reverse().sort(compareCodePoints);
    expect(shuffled).toEqual(keys);
    // Byte order of the UTF-8 keys agrees (what SQL backends compare).
    expect([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))).toEqual(keys);
  });

  it('keeps distinct tag sets distinct, even with "=", U+0000 and U+0001 in them', () => {
    const sets: Tags[] = [
      { 'a=b': 'c' },
      { a: 'b=c' },
      { 'a=': 'b=c' },
      { a: '\u0000' },
      { a: '\u0001' },
      { a: '\u0001\u0002' },
      { a: '', b: '' },
      { a: '\u0001\u0002b=' },
      { 'a=b': 'c', d: 'e' },
      { a: 'b=c', d: 'e' },
      { 'a=': '', '=': 'a' },
    ];
    const keys = sets.map(tagKey);
    expect(new Set(keys).size).toBe(sets.length);
    for (const k of keys) expect(k.includes('\u0000')).toBe(false);
    // U+0000 in a value still sorts below U+0001 and below any other character.
    expect(compareCodePoints(tagKey({ a: '\u0000' }), tagKey({ a: '\u0001' }))).toBe(-1);
    expect(compareCodePoints(tagKey({ a: '\u0001' }), tagKey({ a: '\u0002' }))).toBe(-1);
    expect(compareCodePoints(tagKey({ a: '' }), tagKey({ a: '\u0000' }))).toBe(-1);
    expect(compareCodePoints(tagKey({ a: '', b: '' }), tagKey({ a: '\u0000' }))).toBe(-1);
  });

  it('orders points by timestamp, then tag set', () => {
    const p = (ts: bigint, tags: Tags) => ({ timestampNs: ts, tags });
    expect(comparePoints(p(1n, { z: '' }), p(2n, {}))).toBe(-1);
    expect(comparePoints(p(-1n, {}), p(-2n, {}))).toBe(1);
    expect(comparePoints(p(5n, { a: '1' }), p(5n, { a: '2' }))).toBe(-1);
    expect(comparePoints(p(5n, { a: '1' }), p(5n, { a: '1' }))).toBe(0);
    expect(comparePoints(p(1_733_300_000_123_456_789n, {}), p(1_733_300_000_123_456_790n, {}))).toBe(-1);
  });

  it('matches selectors by series and tag subset', () => {
    const pt = { series: 'cpu', tags: { host: 'a', region: '' } };
    expect(matchesSelector(pt, { series: 'cpu', tags: {} })).toBe(true);
    expect(matchesSelector(pt, { series: 'cpu', tags: { host: 'a' } })).toBe(true);
    expect(matchesSelector(pt, { series: 'cpu', tags: { region: '' } })).toBe(true);
    expect(matchesSelector(pt, { series: 'cpu', tags: { zone: '' } })).toBe(false);
    expect(matchesSelector(pt, { series: 'cpu', tags: { host: 'b' } })).toBe(false);
    expect(matchesSelector(pt, { series: 'CPU', tags: {} })).toBe(false);
    expect(matchesSelector({ series: 'cpu', tags: {} }, { series: 'cpu', tags: { toString: 'x' } })).toBe(
      false,
    );
    expect(sameTags({ a: '1', b: '' }, { b: '', a: '1' })).toBe(true);
    expect(sameTags({ a: '1' }, { a: '1', b: '' })).toBe(false);
  });
});

describe('helpers', () => {
  it('floors bigint division toward -infinity', () => {
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(-8n, 2n)).toBe(-4n);
    expect(floorDiv(-1n, 10n)).toBe(-1n);
    expect(floorDiv(0n, 10n)).toBe(0n);
    expect(floorDiv(7n, -2n)).toBe(-4n);
  });

  it('computes retention cutoffs in ns and rejects older writes by index', () => {
    expect(retentionCutoffNs(0n, 1000)).toBeUndefined();
    expect(retentionCutoffNs(60_000n, 1_733_300_000_000)).toBe((1_733_300_000_000n - 60_000n) * 1_000_000n);
    const cutoff = 1000n;
    expect(() => checkWriteRetention([{ timestampNs: 1000n }], cutoff, 60_000n)).not.toThrow();
    expect(() => checkWriteRetention([{ timestampNs: 0n }], undefined, 0n)).not.toThrow();
    const err = errorOf(() =>
      checkWriteRetention([{ timestampNs: 1000n }, { timestampNs: 999n }], cutoff, 60_000n),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(
      /^points\[1\]\.timestamp_ns \(999\) is older than the namespace's retention of 60000 ms/,
    );
  });

  it('splits into batches', () => {
    expect([...inBatches([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...inBatches([], 2)]).toEqual([]);
  });
});
