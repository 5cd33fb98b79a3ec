import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFORMANCE_LIMITS, expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  LengthRequestSchema,
  ListBasic,
  type ListBasicImpl,
  PopLeftRequestSchema,
  PopRightRequestSchema,
  PushLeftRequestSchema,
  PushRightRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a list_basic implementation, used by this and other suites. */
export function listBasic(impl: ListBasicImpl, namespace: string) {
  const popped = (res: { found?: boolean; value?: Uint8Array }) => ({
    found: res.found ?? false,
    value: res.value ?? new Uint8Array(),
  });
  return {
    pushLeft: async (key: string, ...values: Uint8Array[]) =>
      Number(
        (await impl.pushLeft(create(PushLeftRequestSchema, { namespace, key, values }), ctx)).length ?? 0,
      ),
    pushRight: async (key: string, ...values: Uint8Array[]) =>
      Number(
        (await impl.pushRight(create(PushRightRequestSchema, { namespace, key, values }), ctx)).length ?? 0,
      ),
    popLeft: async (key: string) =>
      popped(await impl.popLeft(create(PopLeftRequestSchema, { namespace, key }), ctx)),
    popRight: async (key: string) =>
      popped(await impl.popRight(create(PopRightRequestSchema, { namespace, key }), ctx)),
    length: async (key: string) =>
      Number((await impl.length(create(LengthRequestSchema, { namespace, key }), ctx)).length ?? 0),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const MISSING = { found: false, value: new Uint8Array() };

/** The list_basic conformance suite: push/pop order at both ends, lengths, empty lists, limits, concurrency. */
export function describeListBasicConformance(label: string, factory: PluginFactory): void {
  describe(`list_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let list: ReturnType<typeof listBasic>;
    const namespace = uniqueNamespace(label);

    /** Pops from the left until the list is empty, returning the values as text. */
    const drain = async (key: string) => {
      const out: string[] = [];
      for (let r = await list.popLeft(key); r.found; r = await list.popLeft(key)) out.push(text(r.value));
      return out;
    };

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(ListBasic);
      if (!impl) throw new Error(`${label} does not implement list_basic`);
      list = listBasic(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('appends with PushRight and pops from both ends', async () => {
      expect(await list.pushRight('q', bytes('a'), bytes('b'), bytes('c'))).toBe(3);
      expect(await list.pushRight('q', bytes('d'))).toBe(4);
      expect(await list.length('q')).toBe(4);
      expect(await list.popLeft('q')).toEqual({ found: true, value: bytes('a') });
      expect(await list.popRight('q')).toEqual({ found: true, value: bytes('d') });
      expect(await drain('q')).toEqual(['b', 'c']);
    });

    it('prepends with PushLeft in Redis LPUSH order: PushLeft(a, b) leaves b at the head', async () => {
      expect(await list.pushLeft('stack', bytes('a'), bytes('b'))).toBe(2);
      expect(await list.pushLeft('stack', bytes('c'))).toBe(3);
      expect(await list.popRight('stack')).toEqual({ found: true, value: bytes('a') });
      expect(await drain('stack')).toEqual(['c', 'b']);
    });

    it('keeps order across mixed pushes at both ends', async () => {
      await list.pushRight('mixed', bytes('2'));
      await list.pushLeft('mixed', bytes('1'), bytes('0'));
      expect(await list.pushRight('mixed', bytes('3'), bytes('4'))).toBe(5);
      expect(await drain('mixed')).toEqual(['0', '1', '2', '3', '4']);
    });

    it('answers length 0 and found=false for a missing list, without error', async () => {
      expect(await list.length('never')).toBe(0);
      expect(await list.popLeft('never')).toEqual(MISSING);
      expect(await list.popRight('never')).toEqual(MISSING);
    });

    it('removes a list when it becomes empty and starts a fresh one on the next push', async () => {
      await list.pushRight('brief', bytes('only'));
      expect(await list.popRight('brief')).toEqual({ found: true, value: bytes('only') });
      expect(await list.length('brief')).toBe(0);
      expect(await list.popLeft('brief')).toEqual(MISSING);
      expect(await list.popRight('brief')).toEqual(MISSING);
      expect(await list.pushLeft('brief', bytes('again'))).toBe(1);
      expect(await drain('brief')).toEqual(['again']);
    });

    it('keeps binary and empty values intact', async () => {
      const values = [
        Uint8Array.from({ length: 256 }, (_, i) => i),
        new Uint8Array(),
        Uint8Array.of(0, 0xff, 0),
      ];
      await list.pushRight('bin', ...values);
      for (const value of values) expect(await list.popLeft('bin')).toEqual({ found: true, value });
      expect(await list.length('bin')).toBe(0);
    });

    it('holds a long list in order', async () => {
      const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);
      expect(await list.pushRight('long', ...values.map(bytes))).toBe(1000);
      expect(await list.length('long')).toBe(1000);
      expect(await drain('long')).toEqual(values);
    });

    it('counts all of 50 concurrent PushRight calls, each seeing a distinct length', async () => {
      const lengths = await Promise.all(
        Array.from({ length: 50 }, (_, i) => list.pushRight('busy', bytes(`${i}`))),
      );
      expect([...lengths].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await list.length('busy')).toBe(50);
      const got = await drain('busy');
      expect(got.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it('rejects a push without values with INVALID_ARGUMENT and creates nothing', async () => {
      const err = await expectCode(() => list.pushRight('nothing'), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/values/);
      await expectCode(() => list.pushLeft('nothing'), Code.InvalidArgument);
      expect(await list.length('nothing')).toBe(0);
    });

    it('rejects an over-limit value with INVALID_ARGUMENT and pushes none of the batch', async () => {
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const err = await expectCode(() => list.pushRight('limited', bytes('ok'), big), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/values\[1\]/);
      await expectCode(() => list.pushLeft('limited', big), Code.InvalidArgument);
      expect(await list.length('limited')).toBe(0);
    });

    it('rejects an empty or over-limit key with INVALID_ARGUMENT on every method', async () => {
      for (const key of ['', 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]) {
        await expectCode(() => list.pushLeft(key, bytes('x')), Code.InvalidArgument);
        await expectCode(() => list.pushRight(key, bytes('x')), Code.InvalidArgument);
        await expectCode(() => list.popLeft(key), Code.InvalidArgument);
        await expectCode(() => list.popRight(key), Code.InvalidArgument);
        await expectCode(() => list.length(key), Code.InvalidArgument);
      }
    });

    it('isolates namespaces sharing the backend', async () => {
      const ns = `${namespace}-other`;
      const other = await factory({ namespace: ns, limits: CONFORMANCE_LIMITS });
      try {
        const otherList = listBasic(other.get(ListBasic)!, ns);
        await list.pushRight('shared', bytes('mine'));
        expect(await otherList.length('shared')).toBe(0);
        await otherList.pushRight('shared', bytes('theirs'), bytes('more'));
        expect(await list.length('shared')).toBe(1);
        expect(await drain('shared')).toEqual(['mine']);
        expect(await otherList.length('shared')).toBe(2);
      } finally {
        await other.close();
      }
    });
  });
}
