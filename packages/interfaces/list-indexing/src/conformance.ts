import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  IndexRequestSchema,
  InsertPosition,
  InsertRequestSchema,
  ListIndexing,
  type ListIndexingImpl,
  RemoveRequestSchema,
  SetIndexRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a list_indexing implementation, used by this and other suites. */
export function listIndexing(impl: ListIndexingImpl, namespace: string) {
  return {
    index: async (key: string, index: number | bigint) => {
      const res = await impl.index(create(IndexRequestSchema, { namespace, key, index: BigInt(index) }), ctx);
      return { found: res.found ?? false, value: res.value ?? new Uint8Array() };
    },
    setIndex: async (key: string, index: number | bigint, value: Uint8Array) => {
      await impl.setIndex(
        create(SetIndexRequestSchema, { namespace, key, index: BigInt(index), value }),
        ctx,
      );
    },
    insert: async (
      key: string,
      position: 'before' | 'after' | InsertPosition,
      pivot: Uint8Array,
      value: Uint8Array,
    ) => {
      const pos =
        position === 'before'
          ? InsertPosition.BEFORE
          : position === 'after'
            ? InsertPosition.AFTER
            : position;
      const res = await impl.insert(
        create(InsertRequestSchema, { namespace, key, position: pos, pivot, value }),
        ctx,
      );
      return { pivotFound: res.pivotFound ?? false, length: Number(res.length ?? 0) };
    },
    remove: async (key: string, value: Uint8Array, count: number | bigint) =>
      Number(
        (await impl.remove(create(RemoveRequestSchema, { namespace, key, value, count: BigInt(count) }), ctx))
          .removed ?? 0,
      ),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const MISSING = { found: false, value: new Uint8Array() };

/**
 * The list_indexing conformance suite: LINDEX/LSET/LINSERT/LREM semantics on the lists of list_basic
 * (which the adapter must declare too: the suite builds and reads lists with it).
 */
export function describeListIndexingConformance(label: string, factory: PluginFactory): void {
  describe(`list_indexing conformance: ${label}`, () => {
    let handle: PluginHandle;
    let list: ReturnType<typeof listBasic>;
    let idx: ReturnType<typeof listIndexing>;
    const namespace = uniqueNamespace(label);

    /** The whole list as text, read with Index from the head until found=false (non-destructive). */
    const contents = async (key: string) => {
      const out: string[] = [];
      for (let i = 0; ; i++) {
        const r = await idx.index(key, i);
        if (!r.found) return out;
        out.push(text(r.value));
      }
    };
    const make = async (key: string, ...values: string[]) => {
      await list.pushRight(key, ...values.map(bytes));
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(ListIndexing);
      if (!impl) throw new Error(`${label} does not implement list_indexing`);
      const basic = handle.get(ListBasic);
      if (!basic) throw new Error(`${label} implements list_indexing without list_basic`);
      idx = listIndexing(impl, namespace);
      list = listBasic(basic, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    describe('Index', () => {
      it('reads by position from the head and, with negative indexes, from the tail', async () => {
        await make('ix', 'a', 'b', 'c');
        expect(await idx.index('ix', 0)).toEqual({ found: true, value: bytes('a') });
        expect(await idx.index('ix', 2)).toEqual({ found: true, value: bytes('c') });
        expect(await idx.index('ix', -1)).toEqual({ found: true, value: bytes('c') });
        expect(await idx.index('ix', -3)).toEqual({ found: true, value: bytes('a') });
        expect(await list.length('ix')).toBe(3);
      });

      it('answers found=false out of range at both ends, and for a missing list', async () => {
        await make('ix-range', 'a', 'b');
        expect(await idx.index('ix-range', 2)).toEqual(MISSING);
        expect(await idx.index('ix-range', -3)).toEqual(MISSING);
        expect(await idx.index('ix-range', 2n ** 62n)).toEqual(MISSING);
        expect(await idx.index('ix-range', -(2n ** 62n))).toEqual(MISSING);
        expect(await idx.index('ix-never', 0)).toEqual(MISSING);
        expect(await idx.index('ix-never', -1)).toEqual(MISSING);
        expect(await list.length('ix-never')).toBe(0);
      });

      it('returns binary and empty values intact', async () => {
        const bin = Uint8Array.from({ length: 256 }, (_, i) => i);
        await list.pushRight('ix-bin', bin, new Uint8Array());
        expect(await idx.index('ix-bin', 0)).toEqual({ found: true, value: bin });
        expect(await idx.index('ix-bin', 1)).toEqual({ found: true, value: new Uint8Array() });
      });
    });

    describe('SetIndex', () => {
      it('replaces the value at a position, negative from the tail, leaving the rest', async () => {
        await make('set', 'a', 'b', 'c');
        await idx.setIndex('set', 1, bytes('B'));
        await idx.setIndex('set', -1, bytes('C'));
        await idx.setIndex('set', 0, new Uint8Array());
        expect(await contents('set')).toEqual(['', 'B', 'C']);
        expect(await list.length('set')).toBe(3);
      });

      it('answers NOT_FOUND for a missing list and creates nothing', async () => {
        const err = await expectCode(() => idx.setIndex('set-never', 0, bytes('x')), Code.NotFound);
        expect(err.rawMessage).toMatch(/set-never/);
        expect(await list.length('set-never')).toBe(0);
      });

      it('answers OUT_OF_RANGE for an index outside the list and changes nothing', async () => {
        await make('set-range', 'a', 'b');
        for (const i of [2, -3, 2n ** 62n, -(2n ** 62n)])
          await expectCode(() => idx.setIndex('set-range', i, bytes('x')), Code.OutOfRange);
        expect(await contents('set-range')).toEqual(['a', 'b']);
      });

      it('rejects an over-limit value with INVALID_ARGUMENT naming value', async () => {
        await make('set-big', 'a');
        const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
        const err = await expectCode(() => idx.setIndex('set-big', 0, big), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/value/);
        expect(await contents('set-big')).toEqual(['a']);
      });

      it('stores a value independent of the caller buffer', async () => {
        await make('set-copy', 'a');
        const buf = bytes('xyz');
        await idx.setIndex('set-copy', 0, buf);
        buf[0] = 0x41;
        expect(await idx.index('set-copy', 0)).toEqual({ found: true, value: bytes('xyz') });
      });
    });

    describe('Insert', () => {
      it('inserts before or after the first occurrence of the pivot and returns the new length', async () => {
        await make('ins', 'a', 'p', 'b', 'p');
        expect(await idx.insert('ins', 'before', bytes('p'), bytes('x'))).toEqual({
          pivotFound: true,
          length: 5,
        });
        expect(await contents('ins')).toEqual(['a', 'x', 'p', 'b', 'p']);
        expect(await idx.insert('ins', 'after', bytes('p'), bytes('y'))).toEqual({
          pivotFound: true,
          length: 6,
        });
        expect(await contents('ins')).toEqual(['a', 'x', 'p', 'y', 'b', 'p']);
      });

      it('inserts at the ends when the pivot is the head or the tail', async () => {
        await make('ins-ends', 'h', 't');
        await idx.insert('ins-ends', 'before', bytes('h'), bytes('0'));
        await idx.insert('ins-ends', 'after', bytes('t'), bytes('9'));
        expect(await contents('ins-ends')).toEqual(['0', 'h', 't', '9']);
        expect(await list.popLeft('ins-ends')).toEqual({ found: true, value: bytes('0') });
        expect(await list.popRight('ins-ends')).toEqual({ found: true, value: bytes('9') });
      });

      it('answers pivot_found=false with the current length when the pivot is absent, inserting nothing', async () => {
        await make('ins-miss', 'a', 'b');
        expect(await idx.insert('ins-miss', 'before', bytes('z'), bytes('x'))).toEqual({
          pivotFound: false,
          length: 2,
        });
        // Byte-for-byte comparison: a prefix or a longer value is not the pivot.
        expect(await idx.insert('ins-miss', 'after', bytes('a\u0000'), bytes('x'))).toEqual({
          pivotFound: false,
          length: 2,
        });
        expect(await contents('ins-miss')).toEqual(['a', 'b']);
      });

      it('answers pivot_found=false and length 0 for a missing list, creating nothing', async () => {
        expect(await idx.insert('ins-never', 'after', bytes('a'), bytes('x'))).toEqual({
          pivotFound: false,
          length: 0,
        });
        expect(await list.length('ins-never')).toBe(0);
      });

      it('matches binary and empty pivots', async () => {
        await list.pushRight('ins-bin', Uint8Array.of(0, 0xff), new Uint8Array());
        expect(await idx.insert('ins-bin', 'after', new Uint8Array(), Uint8Array.of(1))).toEqual({
          pivotFound: true,
          length: 3,
        });
        expect(await idx.insert('ins-bin', 'before', Uint8Array.of(0, 0xff), Uint8Array.of(2))).toEqual({
          pivotFound: true,
          length: 4,
        });
        expect((await idx.index('ins-bin', 0)).value).toEqual(Uint8Array.of(2));
        expect((await idx.index('ins-bin', -1)).value).toEqual(Uint8Array.of(1));
      });

      it('rejects an unspecified position and over-limit pivot or value with INVALID_ARGUMENT', async () => {
        await make('ins-bad', 'a');
        const e1 = await expectCode(
          () => idx.insert('ins-bad', InsertPosition.UNSPECIFIED, bytes('a'), bytes('x')),
          Code.InvalidArgument,
        );
        expect(e1.rawMessage).toMatch(/position/);
        const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
        const e2 = await expectCode(
          () => idx.insert('ins-bad', 'after', big, bytes('x')),
          Code.InvalidArgument,
        );
        expect(e2.rawMessage).toMatch(/pivot/);
        const e3 = await expectCode(
          () => idx.insert('ins-bad', 'after', bytes('a'), big),
          Code.InvalidArgument,
        );
        expect(e3.rawMessage).toMatch(/value/);
        expect(await contents('ins-bad')).toEqual(['a']);
      });
    });

    describe('Remove', () => {
      it('removes the first count occurrences from the head when count > 0', async () => {
        await make('rem', 'x', 'a', 'x', 'b', 'x');
        expect(await idx.remove('rem', bytes('x'), 2)).toBe(2);
        expect(await contents('rem')).toEqual(['a', 'b', 'x']);
      });

      it('removes the last |count| occurrences from the tail when count < 0', async () => {
        await make('rem-tail', 'x', 'a', 'x', 'b', 'x');
        expect(await idx.remove('rem-tail', bytes('x'), -2)).toBe(2);
        expect(await contents('rem-tail')).toEqual(['x', 'a', 'b']);
      });

      it('removes every occurrence when count = 0, and no more than exist when count is larger', async () => {
        await make('rem-all', 'x', 'a', 'x', 'x');
        expect(await idx.remove('rem-all', bytes('x'), 0)).toBe(3);
        expect(await contents('rem-all')).toEqual(['a']);
        await make('rem-more', 'x', 'a', 'x');
        expect(await idx.remove('rem-more', bytes('x'), 10)).toBe(2);
        expect(await idx.remove('rem-more', bytes('x'), -10)).toBe(0);
        expect(await contents('rem-more')).toEqual(['a']);
      });

      it('compares values byte for byte', async () => {
        await list.pushRight(
          'rem-bin',
          bytes('a'),
          bytes('a\u0000'),
          bytes('A'),
          new Uint8Array(),
          bytes('a'),
        );
        expect(await idx.remove('rem-bin', bytes('a'), 0)).toBe(2);
        expect(await idx.remove('rem-bin', new Uint8Array(), 0)).toBe(1);
        expect(await contents('rem-bin')).toEqual(['a\u0000', 'A']);
      });

      it('answers 0 for a missing list or an absent value', async () => {
        expect(await idx.remove('rem-never', bytes('x'), 0)).toBe(0);
        expect(await list.length('rem-never')).toBe(0);
        await make('rem-none', 'a');
        expect(await idx.remove('rem-none', bytes('b'), 0)).toBe(0);
        expect(await contents('rem-none')).toEqual(['a']);
      });

      it('removes a list whose last values are removed; the next push starts a fresh one', async () => {
        await make('rem-empty', 'x', 'x');
        expect(await idx.remove('rem-empty', bytes('x'), 0)).toBe(2);
        expect(await list.length('rem-empty')).toBe(0);
        expect(await idx.index('rem-empty', 0)).toEqual(MISSING);
        await expectCode(() => idx.setIndex('rem-empty', 0, bytes('y')), Code.NotFound);
        expect(await idx.insert('rem-empty', 'before', bytes('x'), bytes('y'))).toEqual({
          pivotFound: false,
          length: 0,
        });
        expect(await list.pushLeft('rem-empty', bytes('new'))).toBe(1);
        expect(await contents('rem-empty')).toEqual(['new']);
      });
    });

    it('keeps the list consistent under concurrent inserts and removes', async () => {
      await make('busy', 'p');
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          idx.insert('busy', i % 2 ? 'before' : 'after', bytes('p'), bytes(`v${i}`)),
        ),
      );
      expect(await list.length('busy')).toBe(21);
      const removed = await Promise.all(
        Array.from({ length: 20 }, (_, i) => idx.remove('busy', bytes(`v${i}`), 0)),
      );
      expect(removed).toEqual(Array.from({ length: 20 }, () => 1));
      expect(await contents('busy')).toEqual(['p']);
    });

    it('rejects an empty or over-limit key with INVALID_ARGUMENT on every method', async () => {
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        const err = await expectCode(() => idx.index(key, 0), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/key/);
        await expectCode(() => idx.setIndex(key, 0, bytes('x')), Code.InvalidArgument);
        await expectCode(() => idx.insert(key, 'after', bytes('a'), bytes('x')), Code.InvalidArgument);
        await expectCode(() => idx.remove(key, bytes('a'), 0), Code.InvalidArgument);
      }
    });

    it('accepts unicode keys', async () => {
      await make('ключ-🔑', 'a');
      await idx.setIndex('ключ-🔑', 0, bytes('ü'));
      expect(await idx.index('ключ-🔑', -1)).toEqual({ found: true, value: bytes('ü') });
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherIdx = listIndexing(other.get(ListIndexing)!, ns);
        const otherList = listBasic(other.get(ListBasic)!, ns);
        await make('shared', 'mine');
        expect(await otherIdx.index('shared', 0)).toEqual(MISSING);
        await expectCode(() => otherIdx.setIndex('shared', 0, bytes('x')), Code.NotFound);
        expect(await otherIdx.insert('shared', 'after', bytes('mine'), bytes('x'))).toEqual({
          pivotFound: false,
          length: 0,
        });
        expect(await otherIdx.remove('shared', bytes('mine'), 0)).toBe(0);
        await otherList.pushRight('shared', bytes('theirs'));
        await otherIdx.setIndex('shared', 0, bytes('changed'));
        expect(await contents('shared')).toEqual(['mine']);
      } finally {
        await other.close();
      }
    });
  });
}
