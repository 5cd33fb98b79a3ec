import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  DeleteRequestSchema,
  ExistsRequestSchema,
  GetRequestSchema,
  KeyValueBasic,
  type KeyValueBasicImpl,
  SetRequestSchema,
} from './index.js';

/** Limits the suite runs adapters with, so the over-limit cases stay cheap. */
export const CONFORMANCE_LIMITS = { maxKeyBytes: 512, maxValueBytes: 2 * 1024 * 1024 };

const signal = new AbortController().signal;
const ctx = { signal };

/** Expects `fn` to reject with a ConnectError of `code`. */
export async function expectCode(fn: () => unknown, code: Code): Promise<ConnectError> {
  try {
    await fn();
  } catch (err) {
    const ce = ConnectError.from(err);
    expect(Code[ce.code]).toBe(Code[code]);
    expect(ce.rawMessage.length).toBeGreaterThan(0);
    return ce;
  }
  throw new Error(`expected ${Code[code]} but the call succeeded`);
}

/** A namespace name unique to this run, so suites sharing a backend never collide. */
export function uniqueNamespace(label: string): string {
  return `conf-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Small typed client over a keyvalue_basic implementation, used by this and other suites. */
export function kvBasic(impl: KeyValueBasicImpl, namespace: string) {
  return {
    set: async (key: string, value: Uint8Array) =>
      impl.set(create(SetRequestSchema, { namespace, key, value }), ctx),
    get: async (key: string) => {
      const res = await impl.get(create(GetRequestSchema, { namespace, key }), ctx);
      return { found: res.found ?? false, value: res.value ?? new Uint8Array() };
    },
    delete: async (key: string) =>
      (await impl.delete(create(DeleteRequestSchema, { namespace, key }), ctx)).deleted ?? false,
    exists: async (key: string) =>
      (await impl.exists(create(ExistsRequestSchema, { namespace, key }), ctx)).exists ?? false,
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

/**
 * The keyvalue_basic conformance suite: the definition of the interface's semantics.
 * Call it from an adapter's test with a factory that creates instances against a real backend.
 */
export function describeKeyValueBasicConformance(label: string, factory: PluginFactory): void {
  describe(`keyvalue_basic conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const impl = handle.get(KeyValueBasic);
      if (!impl) throw new Error(`${label} does not implement keyvalue_basic`);
      kv = kvBasic(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('round-trips a value', async () => {
      await kv.set('greeting', bytes('hello'));
      expect(await kv.get('greeting')).toEqual({ found: true, value: bytes('hello') });
    });

    it('overwrites an existing value', async () => {
      await kv.set('over', bytes('one'));
      await kv.set('over', bytes('two'));
      expect((await kv.get('over')).value).toEqual(bytes('two'));
    });

    it('answers found=false for a missing key, without error', async () => {
      expect(await kv.get('never-written')).toEqual({ found: false, value: new Uint8Array() });
      // found is explicitly present so JSON clients see "found": false.
      const raw = await handle
        .get(KeyValueBasic)!
        .get(create(GetRequestSchema, { namespace, key: 'never-written' }), ctx);
      expect(raw.found).toBe(false);
    });

    it('stores an empty value, distinct from a missing key', async () => {
      await kv.set('empty', new Uint8Array());
      expect(await kv.get('empty')).toEqual({ found: true, value: new Uint8Array() });
      expect(await kv.exists('empty')).toBe(true);
    });

    it('keeps binary values intact, including 0x00 and 0xFF', async () => {
      const value = Uint8Array.from({ length: 256 }, (_, i) => i);
      await kv.set('binary', value);
      expect((await kv.get('binary')).value).toEqual(value);
    });

    it('stores a 1 MiB value', async () => {
      const value = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 31) & 0xff);
      await kv.set('large', value);
      const got = await kv.get('large');
      expect(got.found).toBe(true);
      expect(Buffer.from(got.value).equals(Buffer.from(value))).toBe(true);
    });

    it('accepts unicode keys and keys with : / - _ .', async () => {
      const keys = ['ключ', '鍵', 'emoji-🔑', 'a:b/c-d_e.f', 'user:42/profile.v1', ' spaced key '];
      for (const [i, key] of keys.entries()) await kv.set(key, bytes(`v${i}`));
      for (const [i, key] of keys.entries())
        expect(await kv.get(key)).toEqual({ found: true, value: bytes(`v${i}`) });
    });

    it('deletes a key, and deleting a missing key succeeds', async () => {
      await kv.set('doomed', bytes('x'));
      expect(await kv.delete('doomed')).toBe(true);
      expect((await kv.get('doomed')).found).toBe(false);
      expect(await kv.delete('doomed')).toBe(false);
      expect(await kv.delete('never-existed')).toBe(false);
    });

    it('reports existence', async () => {
      await kv.set('present', bytes('1'));
      expect(await kv.exists('present')).toBe(true);
      expect(await kv.exists('absent')).toBe(false);
    });

    it('keeps all writes of 100 concurrent writers on distinct keys', async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => kv.set(`conc-${i}`, bytes(`value-${i}`))));
      const got = await Promise.all(Array.from({ length: 100 }, (_, i) => kv.get(`conc-${i}`)));
      for (const [i, g] of got.entries()) expect(g).toEqual({ found: true, value: bytes(`value-${i}`) });
    });

    it('lets 20 concurrent deletes of one key all succeed, exactly one of them deleting', async () => {
      await kv.set('contended', bytes('x'));
      const results = await Promise.all(Array.from({ length: 20 }, () => kv.delete('contended')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await kv.exists('contended')).toBe(false);
    });

    it('rejects an empty key with INVALID_ARGUMENT on every method', async () => {
      await expectCode(() => kv.set('', bytes('x')), Code.InvalidArgument);
      await expectCode(() => kv.get(''), Code.InvalidArgument);
      await expectCode(() => kv.delete(''), Code.InvalidArgument);
      await expectCode(() => kv.exists(''), Code.InvalidArgument);
    });

    it('rejects an over-limit key and value with INVALID_ARGUMENT and stores nothing', async () => {
      const longKey = 'k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1);
      const err = await expectCode(() => kv.set(longKey, bytes('x')), Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/key/);
      // A key at exactly the limit is fine; multi-byte characters count in UTF-8 bytes.
      await kv.set('k'.repeat(CONFORMANCE_LIMITS.maxKeyBytes), bytes('ok'));
      await expectCode(
        () => kv.set('é'.repeat(CONFORMANCE_LIMITS.maxKeyBytes / 2 + 1), bytes('x')),
        Code.InvalidArgument,
      );
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const verr = await expectCode(() => kv.set('too-big', big), Code.InvalidArgument);
      expect(verr.rawMessage).toMatch(/value/);
      expect(await kv.exists('too-big')).toBe(false);
    });

    it('isolates namespaces sharing the backend', async () => {
      const other = await factory({ namespace: `${namespace}-other`, limits: CONFORMANCE_LIMITS });
      try {
        const otherKv = kvBasic(other.get(KeyValueBasic)!, `${namespace}-other`);
        await kv.set('shared-name', bytes('mine'));
        expect(await otherKv.get('shared-name')).toEqual({ found: false, value: new Uint8Array() });
        await otherKv.set('shared-name', bytes('theirs'));
        expect((await kv.get('shared-name')).value).toEqual(bytes('mine'));
      } finally {
        await other.close();
      }
    });
  });
}
