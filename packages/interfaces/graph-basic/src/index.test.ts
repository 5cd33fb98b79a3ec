import { create, type JsonObject } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { Code, ConnectError, DEFAULT_LIMITS } from '@prism/sdk';
import {
  AddEdgeRequestSchema,
  AddVertexRequestSchema,
  checkId,
  checkLabel,
  checkProperties,
  GetVertexRequestSchema,
  GraphBasic,
  MAX_PROPERTIES,
  mergeProperties,
  normaliseProperties,
  UpdateVertexRequestSchema,
} from './index.js';

const errorOf = (fn: () => void): ConnectError | undefined => {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err);
  }
  return undefined;
};
const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));

describe('ids and labels', () => {
  it('accepts 1..256 characters without control characters, counting code points', () => {
    for (const id of ['a', 'with space', 'ü/ß:1', 'x'.repeat(256), '😀'.repeat(256)])
      expect(errorOf(() => checkId(id))).toBeUndefined();
  });
  it.each(['', 'x'.repeat(257), '😀'.repeat(257), 'a\u0000', 'a\tb', 'a\nb', 'a\u007f', 'a\u0085'])(
    'rejects id %j',
    (id) => {
      expect(errorOf(() => checkId(id, 'vertex.id'))?.rawMessage).toMatch(/vertex\.id/);
    },
  );
  it('accepts labels of letters, digits, _ and -, up to 128', () => {
    for (const l of ['person', 'lives_in', 'x-1', 'A', 'l'.repeat(128)])
      expect(errorOf(() => checkLabel(l))).toBeUndefined();
  });
  it.each(['', 'has space', 'dot.ted', 'ü', 'l'.repeat(129), 'a:b'])('rejects label %j', (l) => {
    expect(errorOf(() => checkLabel(l))?.code).toBe(Code.InvalidArgument);
  });
});

describe('properties', () => {
  it('accepts strings, finite numbers and booleans, and at most 64 of them', () => {
    expect(
      errorOf(() => checkProperties({ s: 'x', n: 1.5, z: 0, neg: -1, b: false, e: '' })),
    ).toBeUndefined();
    expect(errorOf(() => checkProperties(props(MAX_PROPERTIES)))).toBeUndefined();
    expect(errorOf(() => checkProperties(undefined))).toBeUndefined();
  });
  it.each<[JsonObject, RegExp]>([
    [{ a: null }, /properties\.a is null/],
    [{ a: [1] }, /properties\.a is a list/],
    [{ a: { b: 1 } }, /properties\.a is an object/],
    [{ a: Number.NaN }, /properties\.a must be a finite number/],
    [{ a: Number.NEGATIVE_INFINITY }, /finite/],
    [{ 'a b': 1 }, /name "a b"/],
    [props(65), /65 properties; at most 64/],
  ])('rejects %j', (p, why) => {
    const err = errorOf(() => checkProperties(p));
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(why);
  });
  it('rejects a string value beyond the namespace value limit', () => {
    const err = errorOf(() =>
      checkProperties({ big: 'xxxxx' }, 'properties', { maxKeyBytes: 10, maxValueBytes: 4 }),
    );
    expect(err?.rawMessage).toMatch(/properties\.big is 5 bytes/);
  });
  it('normalises an absent Struct to no properties', () => {
    expect(normaliseProperties(undefined)).toEqual({});
    expect(normaliseProperties({ a: 1, b: 'x', c: true })).toEqual({ a: 1, b: 'x', c: true });
  });
});

describe('mergeProperties', () => {
  it('sets, overwrites and removes without touching the input', () => {
    const current = { a: 1, b: 'x', c: true };
    expect(mergeProperties(current, { b: 'y', d: 2 }, ['c', 'missing'])).toEqual({ a: 1, b: 'y', d: 2 });
    expect(current).toEqual({ a: 1, b: 'x', c: true });
    expect(mergeProperties(current, undefined, [])).toEqual(current);
  });
  it('rejects a result beyond 64 properties, but counts removals first', () => {
    expect(errorOf(() => mergeProperties(props(64), { extra: 1 }, []))?.rawMessage).toMatch(/65 properties/);
    expect(Object.keys(mergeProperties(props(64), { extra: 1 }, ['p0']))).toHaveLength(64);
  });
});

describe('GraphBasic validators', () => {
  const v = GraphBasic.validate;
  it('checks vertices and edges, naming the field', () => {
    const ok = create(AddVertexRequestSchema, { vertex: { id: 'a', label: 'person', properties: { n: 1 } } });
    expect(errorOf(() => v.addVertex?.(ok, DEFAULT_LIMITS))).toBeUndefined();
    expect(
      errorOf(() => v.addVertex?.(create(AddVertexRequestSchema, {}), DEFAULT_LIMITS))?.rawMessage,
    ).toMatch(/vertex is required/);
    const bad = create(AddVertexRequestSchema, {
      vertex: { id: 'a', label: 'person', properties: { n: [1] } },
    });
    expect(errorOf(() => v.addVertex?.(bad, DEFAULT_LIMITS))?.rawMessage).toMatch(/vertex\.properties\.n/);
    const edge = create(AddEdgeRequestSchema, { edge: { id: 'e', label: 'knows', fromId: 'a', toId: '' } });
    expect(errorOf(() => v.addEdge?.(edge, DEFAULT_LIMITS))?.rawMessage).toMatch(/edge\.to_id/);
    expect(
      errorOf(() => v.getVertex?.(create(GetVertexRequestSchema, { id: '' }), DEFAULT_LIMITS))?.code,
    ).toBe(Code.InvalidArgument);
  });
  it('checks updates: set values, remove names, and no name in both', () => {
    const upd = (set: JsonObject, remove: string[]) =>
      create(UpdateVertexRequestSchema, { id: 'a', set, remove });
    expect(errorOf(() => v.updateVertex?.(upd({ a: 1 }, ['b']), DEFAULT_LIMITS))).toBeUndefined();
    expect(errorOf(() => v.updateVertex?.(upd({ a: null }, []), DEFAULT_LIMITS))?.rawMessage).toMatch(
      /set\.a/,
    );
    expect(errorOf(() => v.updateVertex?.(upd({}, ['bad name']), DEFAULT_LIMITS))?.rawMessage).toMatch(
      /remove\[0\]/,
    );
    expect(errorOf(() => v.updateVertex?.(upd({ a: 1 }, ['a']), DEFAULT_LIMITS))?.rawMessage).toMatch(/both/);
  });
  it('declares reads and writes', () => {
    expect(GraphBasic.name).toBe('graph_basic');
    expect(GraphBasic.access.getVertex).toBe('read');
    expect(GraphBasic.access.deleteVertex).toBe('write');
  });
});
