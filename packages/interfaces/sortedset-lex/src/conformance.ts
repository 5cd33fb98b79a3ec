import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import { basicOf } from '@prism/sortedset-basic/conformance';
import {
  LexBoundSchema,
  LexCountRequestSchema,
  MAX_RANGE_ENTRIES,
  RangeByLexRequestSchema,
  SortedSetLex,
  type SortedSetLexImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };
const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** A lex bound: `['[', m]` inclusive, `['(', m]` exclusive, undefined unbounded (members are latin1 text). */
export type LexBoundLike = ['[' | '(', string | Uint8Array] | undefined;
const bound = (b: LexBoundLike) =>
  b === undefined
    ? undefined
    : create(LexBoundSchema, {
        value: typeof b[1] === 'string' ? latin1(b[1]) : b[1],
        exclusive: b[0] === '(',
      });

/** Small typed client over a sortedset_lex implementation; members come back as latin1 text. */
export function sortedSetLex(impl: SortedSetLexImpl, namespace: string) {
  return {
    range: async (
      key: string,
      min?: LexBoundLike,
      max?: LexBoundLike,
      opts: { reverse?: boolean; offset?: number; limit?: number } = {},
    ) => {
      const res = await impl.rangeByLex(
        create(RangeByLexRequestSchema, { namespace, key, min: bound(min), max: bound(max), ...opts }),
        ctx,
      );
      return { members: (res.members ?? []).map(text), more: res.more ?? false };
    },
    count: async (key: string, min?: LexBoundLike, max?: LexBoundLike) =>
      Number(
        (
          await impl.lexCount(
            create(LexCountRequestSchema, { namespace, key, min: bound(min), max: bound(max) }),
            ctx,
          )
        ).count ?? 0,
      ),
  };
}

/** Members in unsigned byte order: empty first, a prefix before its extensions, 0x80+ after ASCII. */
const ORDERED = ['', '\x00', 'a', 'aa', 'ab', 'b', 'c', 'é', '\xff'];

/**
 * The sortedset_lex conformance suite, on sets whose members share one score (the only case the
 * interface specifies). Needs sortedset_basic on the same adapter to fill keys.
 */
export function describeSortedSetLexConformance(label: string, factory: PluginFactory): void {
  describe(`sortedset_lex conformance: ${label}`, () => {
    let handle: PluginHandle;
    let l: ReturnType<typeof sortedSetLex>;
    const namespace = uniqueNamespace(label);
    let z: ReturnType<typeof basicOf>;

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(SortedSetLex);
      if (!impl) throw new Error(`${label} does not implement sortedset_lex`);
      l = sortedSetLex(impl, namespace);
      z = basicOf(handle, label, namespace);
      await z.add(
        'fx',
        [...ORDERED].reverse().map((m): [Uint8Array, number] => [latin1(m), 0]),
      );
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('lists all members in unsigned byte order when both bounds are unbounded', async () => {
      expect(await l.range('fx')).toEqual({ members: ORDERED, more: false });
      expect(await l.count('fx')).toBe(ORDERED.length);
    });

    it('honours inclusive and exclusive bounds', async () => {
      expect((await l.range('fx', ['[', 'a'], ['[', 'b'])).members).toEqual(['a', 'aa', 'ab', 'b']);
      expect((await l.range('fx', ['(', 'a'], ['(', 'b'])).members).toEqual(['aa', 'ab']);
      expect((await l.range('fx', ['[', 'aa'])).members).toEqual(['aa', 'ab', 'b', 'c', 'é', '\xff']);
      expect((await l.range('fx', undefined, ['(', 'b'])).members).toEqual(['', '\x00', 'a', 'aa', 'ab']);
      // Bounds need not be members.
      expect((await l.range('fx', ['[', 'a\x00'], ['[', 'b\x00'])).members).toEqual(['aa', 'ab', 'b']);
      expect((await l.range('fx', ['[', '\x80'])).members).toEqual(['é', '\xff']);
      // The empty bound: "[" includes the empty member, "(" excludes it.
      expect((await l.range('fx', ['[', ''], ['[', ''])).members).toEqual(['']);
      expect((await l.range('fx', ['(', ''], ['[', 'a'])).members).toEqual(['\x00', 'a']);
      expect(await l.count('fx', ['(', 'a'], ['(', 'b'])).toBe(2);
      expect(await l.count('fx', ['[', 'b'])).toBe(4);
      expect(await l.count('fx', undefined, ['[', ''])).toBe(1);
    });

    it('answers nothing when min > max, for an empty interval and for a missing key', async () => {
      expect(await l.range('fx', ['[', 'b'], ['[', 'a'])).toEqual({ members: [], more: false });
      expect(await l.range('fx', ['(', 'a'], ['(', 'a'])).toEqual({ members: [], more: false });
      expect(await l.range('fx', ['(', 'a'], ['[', 'a'])).toEqual({ members: [], more: false });
      expect(await l.count('fx', ['[', 'b'], ['[', 'a'])).toBe(0);
      expect(await l.range('never')).toEqual({ members: [], more: false });
      expect(await l.count('never')).toBe(0);
    });

    it('reverses the order with reverse=true, keeping min and max as they are', async () => {
      expect((await l.range('fx', undefined, undefined, { reverse: true })).members).toEqual(
        [...ORDERED].reverse(),
      );
      expect((await l.range('fx', ['[', 'a'], ['(', 'c'], { reverse: true })).members).toEqual([
        'b',
        'ab',
        'aa',
        'a',
      ]);
      expect((await l.range('fx', ['[', 'c'], ['[', 'a'], { reverse: true })).members).toEqual([]);
    });

    it('pages with offset and limit, saying whether more members follow', async () => {
      expect(await l.range('fx', undefined, undefined, { offset: 1, limit: 3 })).toEqual({
        members: ORDERED.slice(1, 4),
        more: true,
      });
      expect(await l.range('fx', undefined, undefined, { offset: 6, limit: 3 })).toEqual({
        members: ORDERED.slice(6),
        more: false,
      });
      expect(await l.range('fx', ['[', 'a'], undefined, { reverse: true, offset: 2, limit: 2 })).toEqual({
        members: ['c', 'b'],
        more: true,
      });
      expect(await l.range('fx', undefined, undefined, { offset: 50 })).toEqual({ members: [], more: false });
    });

    it(`answers at most ${MAX_RANGE_ENTRIES} members and says more are there`, async () => {
      const n = MAX_RANGE_ENTRIES + 3;
      const names = Array.from({ length: n }, (_, i) => `m${String(i).padStart(6, '0')}`);
      await z.add(
        'big',
        names.map((m): [string, number] => [m, 7]),
      );
      const first = await l.range('big');
      expect(first.members).toHaveLength(MAX_RANGE_ENTRIES);
      expect(first.more).toBe(true);
      expect(first.members.at(-1)).toBe(names[MAX_RANGE_ENTRIES - 1]);
      expect(await l.range('big', ['(', names[MAX_RANGE_ENTRIES - 1]!])).toEqual({
        members: names.slice(MAX_RANGE_ENTRIES),
        more: false,
      });
      expect(await l.count('big')).toBe(n);
    });

    it('rejects bad input with INVALID_ARGUMENT naming the field', async () => {
      let err = await expectCode(
        () => l.range('fx', undefined, undefined, { limit: MAX_RANGE_ENTRIES + 1 }),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/limit/);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      err = await expectCode(() => l.range('fx', ['[', big]), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/min\.value/);
      err = await expectCode(() => l.count('fx', undefined, ['(', big]), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/max\.value/);
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        await expectCode(() => l.range(key), Code.InvalidArgument);
        await expectCode(() => l.count(key), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const theirs = sortedSetLex(other.get(SortedSetLex)!, ns);
        expect(await theirs.range('fx')).toEqual({ members: [], more: false });
        await basicOf(other, label, ns).add('fx', [['zz', 0]]);
        expect(await theirs.count('fx')).toBe(1);
        expect((await l.range('fx')).members).toEqual(ORDERED);
      } finally {
        await other.close();
      }
    });
  });
}
