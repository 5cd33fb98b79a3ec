import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  DEFAULT_RANGE_LIMIT,
  ListRange,
  type ListRangeImpl,
  MAX_RANGE_BYTES,
  MAX_RANGE_LIMIT,
  RangeRequestSchema,
  TrimRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** One Range answer as the suite sees it, with proto defaults filled in. */
export interface RangePage {
  values: Uint8Array[];
  truncated: boolean;
  nextStart: bigint;
  length: number;
}

/** Small typed client over a list_range implementation, used by this and other suites. */
export function listRange(impl: ListRangeImpl, namespace: string) {
  const range = async (
    key: string,
    start: number | bigint,
    stop: number | bigint,
    limit = 0,
  ): Promise<RangePage> => {
    const res = await impl.range(
      create(RangeRequestSchema, { namespace, key, start: BigInt(start), stop: BigInt(stop), limit }),
      ctx,
    );
    return {
      values: [...(res.values ?? [])],
      truncated: res.truncated ?? false,
      nextStart: res.nextStart ?? 0n,
      length: Number(res.length ?? 0),
    };
  };
  return {
    range,
    /** Every value of start..stop, following next_start across answers. */
    all: async (key: string, start: number | bigint, stop: number | bigint, limit = 0) => {
      const out: Uint8Array[] = [];
      let from = BigInt(start);
      for (;;) {
        const page = await range(key, from, stop, limit);
        out.push(...page.values);
        if (!page.truncated) return out;
        from = page.nextStart;
      }
    },
    trim: async (key: string, start: number | bigint, stop: number | bigint) =>
      Number(
        (
          await impl.trim(
            create(TrimRequestSchema, { namespace, key, start: BigInt(start), stop: BigInt(stop) }),
            ctx,
          )
        ).length ?? 0,
      ),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const texts = (page: { values: Uint8Array[] }) => page.values.map(text);
const BIG = 2n ** 62n;
/** Byte-wise equality of two lists of values (cheap for large values, unlike a deep toEqual). */
const same = (a: Uint8Array[], b: Uint8Array[]) =>
  a.length === b.length && a.every((v, i) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(b[i]!));

/**
 * The list_range conformance suite: LRANGE/LTRIM semantics (inclusive, negative indexes, clamping), bounded
 * answers with next_start paging, on the lists of list_basic (which the adapter must declare too).
 */
export function describeListRangeConformance(label: string, factory: PluginFactory): void {
  describe(`list_range conformance: ${label}`, () => {
    let handle: PluginHandle;
    let list: ReturnType<typeof listBasic>;
    let lr: ReturnType<typeof listRange>;
    const namespace = uniqueNamespace(label);
    const make = async (key: string, ...values: string[]) => {
      await list.pushRight(key, ...values.map(bytes));
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(ListRange);
      if (!impl) throw new Error(`${label} does not implement list_range`);
      const basic = handle.get(ListBasic);
      if (!basic) throw new Error(`${label} implements list_range without list_basic`);
      lr = listRange(impl, namespace);
      list = listBasic(basic, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    describe('Range', () => {
      it('returns inclusive ranges with negative indexes counting from the tail', async () => {
        await make('r', 'a', 'b', 'c', 'd', 'e');
        const cases: [number, number, string[]][] = [
          [0, -1, ['a', 'b', 'c', 'd', 'e']],
          [0, 0, ['a']],
          [1, 3, ['b', 'c', 'd']],
          [-2, -1, ['d', 'e']],
          [-3, 3, ['c', 'd']],
          [1, -2, ['b', 'c', 'd']],
          [4, 4, ['e']],
        ];
        for (const [start, stop, want] of cases) {
          const page = await lr.range('r', start, stop);
          expect({ start, stop, got: texts(page) }).toEqual({ start, stop, got: want });
          expect(page).toMatchObject({ truncated: false, nextStart: 0n, length: 5 });
        }
        expect(await list.length('r')).toBe(5);
      });

      it('clamps out-of-range indexes and answers empty ranges without error', async () => {
        await make('clamp', 'a', 'b', 'c');
        const cases: [number | bigint, number | bigint, string[]][] = [
          [0, 100, ['a', 'b', 'c']],
          [-100, 1, ['a', 'b']],
          [-BIG, BIG, ['a', 'b', 'c']],
          [3, 10, []],
          [BIG, -1, []],
          [2, 1, []],
          [-1, -2, []],
          [0, -4, []],
          [-100, -4, []],
        ];
        for (const [start, stop, want] of cases) {
          const page = await lr.range('clamp', start, stop);
          expect({ start, stop, got: texts(page) }).toEqual({ start, stop, got: want });
          expect(page).toMatchObject({ truncated: false, length: 3 });
        }
      });

      it('answers an empty range and length 0 for a missing list', async () => {
        expect(await lr.range('never', 0, -1)).toEqual({
          values: [],
          truncated: false,
          nextStart: 0n,
          length: 0,
        });
        expect(await list.length('never')).toBe(0);
      });

      it('returns binary and empty values intact', async () => {
        const values = [
          Uint8Array.from({ length: 256 }, (_, i) => i),
          new Uint8Array(),
          Uint8Array.of(0, 0xff, 0),
        ];
        await list.pushRight('bin', ...values);
        expect((await lr.range('bin', 0, -1)).values).toEqual(values);
      });

      it('bounds an answer by limit and pages the rest with next_start', async () => {
        await make('paged', ...Array.from({ length: 25 }, (_, i) => `v${i}`));
        const first = await lr.range('paged', 0, -1, 10);
        expect(texts(first)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
        expect(first).toMatchObject({ truncated: true, nextStart: 10n, length: 25 });
        const second = await lr.range('paged', first.nextStart, -1, 10);
        expect(texts(second)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i + 10}`));
        expect(second).toMatchObject({ truncated: true, nextStart: 20n });
        const last = await lr.range('paged', second.nextStart, -1, 10);
        expect(texts(last)).toEqual(['v20', 'v21', 'v22', 'v23', 'v24']);
        expect(last).toMatchObject({ truncated: false, nextStart: 0n });
        // A limit equal to the range size is not truncated; a negative start pages in absolute indexes.
        expect(await lr.range('paged', 20, 24, 5)).toMatchObject({ truncated: false, nextStart: 0n });
        const tail = await lr.range('paged', -6, -2, 2);
        expect(texts(tail)).toEqual(['v19', 'v20']);
        expect(tail).toMatchObject({ truncated: true, nextStart: 21n });
        expect((await lr.all('paged', -6, -2, 2)).map(text)).toEqual(['v19', 'v20', 'v21', 'v22', 'v23']);
        expect((await lr.all('paged', 3, 17, 4)).map(text)).toEqual(
          Array.from({ length: 15 }, (_, i) => `v${i + 3}`),
        );
      });

      it(`returns at most ${DEFAULT_RANGE_LIMIT} values when limit is 0`, async () => {
        const n = DEFAULT_RANGE_LIMIT + 234;
        await make('long', ...Array.from({ length: n }, (_, i) => `${i}`));
        const page = await lr.range('long', 0, -1);
        expect(page.values.length).toBe(DEFAULT_RANGE_LIMIT);
        expect(page).toMatchObject({ truncated: true, nextStart: BigInt(DEFAULT_RANGE_LIMIT), length: n });
        expect(text(page.values.at(-1)!)).toBe(`${DEFAULT_RANGE_LIMIT - 1}`);
        const all = await lr.all('long', 0, -1);
        expect(all.map(text)).toEqual(Array.from({ length: n }, (_, i) => `${i}`));
        expect((await lr.range('long', 0, -1, MAX_RANGE_LIMIT)).values.length).toBe(n);
      });

      it(`bounds an answer to ${MAX_RANGE_BYTES} bytes of values, always returning at least one`, async () => {
        const size = CONFORMANCE_LIMITS.maxValueBytes; // 2 MiB: four fit in 8 MiB, five do not
        const values = Array.from({ length: 6 }, (_, i) => new Uint8Array(size).fill(i + 1));
        await list.pushRight('heavy', values[0]!, values[1]!, values[2]!);
        await list.pushRight('heavy', values[3]!, values[4]!, values[5]!);
        const first = await lr.range('heavy', 0, -1);
        expect(first.values.length).toBe(Math.floor(MAX_RANGE_BYTES / size));
        expect(same(first.values, values.slice(0, first.values.length))).toBe(true);
        expect(first).toMatchObject({ truncated: true, nextStart: BigInt(first.values.length), length: 6 });
        const rest = await lr.range('heavy', first.nextStart, -1);
        expect(same(rest.values, values.slice(first.values.length))).toBe(true);
        expect(rest.truncated).toBe(false);
        await list.pushRight('heavy-mixed', bytes('small'), new Uint8Array(size), new Uint8Array(size));
        await list.pushRight('heavy-mixed', new Uint8Array(size), new Uint8Array(size), bytes('tiny'));
        const mixed = await lr.range('heavy-mixed', 0, -1);
        expect(mixed.values.length).toBe(4); // 5 + 3 × 2 MiB fit; a fourth 2 MiB value would not
        expect(mixed).toMatchObject({ truncated: true, nextStart: 4n });
      });

      it('rejects a limit above the maximum with INVALID_ARGUMENT naming limit', async () => {
        const err = await expectCode(() => lr.range('r', 0, -1, MAX_RANGE_LIMIT + 1), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/limit/);
      });
    });

    describe('Trim', () => {
      it('keeps only start..stop (inclusive, negative from the tail) and returns the length', async () => {
        await make('t', 'a', 'b', 'c', 'd', 'e');
        expect(await lr.trim('t', 1, -2)).toBe(3);
        expect(texts(await lr.range('t', 0, -1))).toEqual(['b', 'c', 'd']);
        expect(await lr.trim('t', -2, 100)).toBe(2);
        expect(texts(await lr.range('t', 0, -1))).toEqual(['c', 'd']);
        expect(await lr.trim('t', 0, -1)).toBe(2);
        expect(await list.popLeft('t')).toEqual({ found: true, value: bytes('c') });
        expect(await list.popRight('t')).toEqual({ found: true, value: bytes('d') });
      });

      it('clamps like Range: a huge window keeps everything', async () => {
        await make('t-clamp', 'a', 'b');
        expect(await lr.trim('t-clamp', -BIG, BIG)).toBe(2);
        expect(texts(await lr.range('t-clamp', 0, -1))).toEqual(['a', 'b']);
      });

      it('removes a list trimmed to nothing; the next push starts a fresh one', async () => {
        for (const [start, stop] of [
          [2, 1],
          [5, 10],
          [-1, -2],
        ] as const) {
          await make('t-empty', 'a', 'b', 'c');
          expect(await lr.trim('t-empty', start, stop)).toBe(0);
          expect(await list.length('t-empty')).toBe(0);
          expect(await list.popLeft('t-empty')).toEqual({ found: false, value: new Uint8Array() });
          expect(await lr.range('t-empty', 0, -1)).toMatchObject({ values: [], length: 0 });
        }
        expect(await list.pushRight('t-empty', bytes('again'))).toBe(1);
      });

      it('is a no-op on a missing list', async () => {
        expect(await lr.trim('t-never', 0, 10)).toBe(0);
        expect(await list.length('t-never')).toBe(0);
      });

      it('keeps a capped list bounded under concurrent push-and-trim', async () => {
        await Promise.all(
          Array.from({ length: 30 }, async (_, i) => {
            await list.pushLeft('capped', bytes(`${i}`));
            await lr.trim('capped', 0, 9);
          }),
        );
        expect(await lr.trim('capped', 0, 9)).toBe(10);
        expect(await list.length('capped')).toBe(10);
      });
    });

    it('rejects an empty or over-limit key with INVALID_ARGUMENT on every method', async () => {
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        const err = await expectCode(() => lr.range(key, 0, -1), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/key/);
        await expectCode(() => lr.trim(key, 0, -1), Code.InvalidArgument);
      }
    });

    it('accepts unicode keys', async () => {
      await make('списки-🧾', 'x', 'y');
      expect(texts(await lr.range('списки-🧾', -1, -1))).toEqual(['y']);
      expect(await lr.trim('списки-🧾', 0, 0)).toBe(1);
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherRange = listRange(other.get(ListRange)!, ns);
        const otherList = listBasic(other.get(ListBasic)!, ns);
        await make('shared', 'mine', 'also-mine');
        expect(await otherRange.range('shared', 0, -1)).toMatchObject({ values: [], length: 0 });
        expect(await otherRange.trim('shared', 0, 0)).toBe(0);
        await otherList.pushRight('shared', bytes('theirs'));
        expect(await otherRange.trim('shared', 1, 0)).toBe(0);
        expect(texts(await lr.range('shared', 0, -1))).toEqual(['mine', 'also-mine']);
      } finally {
        await other.close();
      }
    });
  });
}
