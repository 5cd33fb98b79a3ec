import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { CONFORMANCE_LIMITS, expectCode, kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  ExpireRequestSchema,
  GetTTLRequestSchema,
  KeyValueTTL,
  type KeyValueTTLImpl,
  PersistRequestSchema,
  SetWithTTLRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };

/** Small typed client over a keyvalue_ttl implementation, used by this and other suites. */
export function kvTTL(impl: KeyValueTTLImpl, namespace: string) {
  return {
    setWithTTL: async (key: string, value: Uint8Array, ttlMs: number) => {
      await impl.setWithTTL(
        create(SetWithTTLRequestSchema, { namespace, key, value, ttlMs: BigInt(ttlMs) }),
        ctx,
      );
    },
    expire: async (key: string, ttlMs: number) =>
      (await impl.expire(create(ExpireRequestSchema, { namespace, key, ttlMs: BigInt(ttlMs) }), ctx))
        .applied ?? false,
    getTTL: async (key: string) => {
      const res = await impl.getTTL(create(GetTTLRequestSchema, { namespace, key }), ctx);
      return { exists: res.exists ?? false, hasTtl: res.hasTtl ?? false, ttlMs: Number(res.ttlMs ?? 0) };
    },
    persist: async (key: string) =>
      (await impl.persist(create(PersistRequestSchema, { namespace, key }), ctx)).applied ?? false,
  };
}

/** Polls `cond` every few milliseconds until it holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(cond: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Options of the TTL suite. */
export interface TTLConformanceOptions {
  /** The adapter also implements keyvalue_scan: check that expired keys vanish from Scan and Count. */
  readonly scan?: boolean;
}

const bytes = (s: string) => new TextEncoder().encode(s);
/** A TTL short enough to wait for, long enough that a remote backend answers the next call first. */
const SHORT = 250;
const LONG = 60_000;

/**
 * The keyvalue_ttl conformance suite: expiry, overwrite semantics and the GetTTL/Persist contract.
 * The adapter must also implement keyvalue_basic (expired keys must look missing there).
 */
export function describeKeyValueTTLConformance(
  label: string,
  factory: PluginFactory,
  options: TTLConformanceOptions = {},
): void {
  describe(`keyvalue_ttl conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    let ttl: ReturnType<typeof kvTTL>;
    const namespace = uniqueNamespace(label);
    const gone = (key: string) => async () => !(await kv.get(key)).found;

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(KeyValueBasic);
      const impl = handle.get(KeyValueTTL);
      if (!basic || !impl) throw new Error(`${label} must implement keyvalue_basic and keyvalue_ttl`);
      kv = kvBasic(basic, namespace);
      ttl = kvTTL(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('stores a value with a TTL and reports the remaining time', async () => {
      await ttl.setWithTTL('alive', bytes('v'), LONG);
      expect(await kv.get('alive')).toEqual({ found: true, value: bytes('v') });
      expect(await kv.exists('alive')).toBe(true);
      const t = await ttl.getTTL('alive');
      expect(t.exists).toBe(true);
      expect(t.hasTtl).toBe(true);
      expect(t.ttlMs).toBeGreaterThan(0);
      expect(t.ttlMs).toBeLessThanOrEqual(LONG);
    });

    it('makes a key disappear after its TTL; Get, Exists and GetTTL then treat it as missing', async () => {
      await ttl.setWithTTL('short', bytes('v'), SHORT);
      await waitUntil(gone('short'), 'the key expired');
      expect(await kv.get('short')).toEqual({ found: false, value: new Uint8Array() });
      expect(await kv.exists('short')).toBe(false);
      expect(await ttl.getTTL('short')).toEqual({ exists: false, hasTtl: false, ttlMs: 0 });
      expect(await ttl.persist('short')).toBe(false);
      expect(await ttl.expire('short', LONG)).toBe(false);
      expect(await kv.exists('short')).toBe(false);
    });

    it('clears the TTL on a plain Set (overwrite semantics)', async () => {
      await ttl.setWithTTL('reset', bytes('old'), SHORT);
      await ttl.setWithTTL('reset-sentinel', bytes('s'), SHORT);
      await kv.set('reset', bytes('new'));
      expect(await ttl.getTTL('reset')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
      await waitUntil(gone('reset-sentinel'), 'the sentinel with the same TTL expired');
      expect(await kv.get('reset')).toEqual({ found: true, value: bytes('new') });
    });

    it('replaces value and TTL when SetWithTTL hits an existing key', async () => {
      await kv.set('replace', bytes('v1'));
      await ttl.setWithTTL('replace', bytes('v2'), 10_000);
      expect((await kv.get('replace')).value).toEqual(bytes('v2'));
      expect((await ttl.getTTL('replace')).ttlMs).toBeLessThanOrEqual(10_000);
      await ttl.setWithTTL('replace', bytes('v3'), LONG);
      expect((await kv.get('replace')).value).toEqual(bytes('v3'));
      expect((await ttl.getTTL('replace')).ttlMs).toBeGreaterThan(10_000);
      await ttl.setWithTTL('replace', bytes('v4'), 5_000);
      const t = await ttl.getTTL('replace');
      expect(t.ttlMs).toBeGreaterThan(0);
      expect(t.ttlMs).toBeLessThanOrEqual(5_000);
    });

    it('answers applied=false when Expire hits a missing key, and does not create it', async () => {
      expect(await ttl.expire('nobody', LONG)).toBe(false);
      expect(await kv.exists('nobody')).toBe(false);
      expect((await ttl.getTTL('nobody')).exists).toBe(false);
    });

    it('sets and replaces the TTL of an existing key with Expire', async () => {
      await kv.set('expiring', bytes('v'));
      expect(await ttl.expire('expiring', LONG)).toBe(true);
      const t = await ttl.getTTL('expiring');
      expect(t.hasTtl).toBe(true);
      expect(t.ttlMs).toBeGreaterThan(10_000);
      expect((await kv.get('expiring')).value).toEqual(bytes('v'));
      expect(await ttl.expire('expiring', SHORT)).toBe(true);
      expect((await ttl.getTTL('expiring')).ttlMs).toBeLessThanOrEqual(SHORT);
      await waitUntil(gone('expiring'), 'the key expired after Expire');
    });

    it('reports GetTTL for a missing key, a key without TTL and a key with TTL', async () => {
      expect(await ttl.getTTL('missing-ttl')).toEqual({ exists: false, hasTtl: false, ttlMs: 0 });
      await kv.set('forever', bytes('v'));
      expect(await ttl.getTTL('forever')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
      await ttl.setWithTTL('bounded', bytes('v'), 30_000);
      const t = await ttl.getTTL('bounded');
      expect(t).toEqual({ exists: true, hasTtl: true, ttlMs: t.ttlMs });
      expect(t.ttlMs).toBeGreaterThan(0);
      expect(t.ttlMs).toBeLessThanOrEqual(30_000);
    });

    it('removes a TTL with Persist: applied once, then false; the key outlives its old expiry', async () => {
      await ttl.setWithTTL('saved', bytes('keep'), SHORT);
      await ttl.setWithTTL('saved-sentinel', bytes('s'), SHORT);
      expect(await ttl.persist('saved')).toBe(true);
      expect(await ttl.persist('saved')).toBe(false);
      expect(await ttl.getTTL('saved')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
      await waitUntil(gone('saved-sentinel'), 'the sentinel with the same TTL expired');
      expect(await kv.get('saved')).toEqual({ found: true, value: bytes('keep') });
      expect(await ttl.persist('missing-persist')).toBe(false);
      await kv.set('no-ttl', bytes('v'));
      expect(await ttl.persist('no-ttl')).toBe(false);
    });

    it('removes a key with TTL on Delete', async () => {
      await ttl.setWithTTL('deleted', bytes('v'), LONG);
      expect(await kv.delete('deleted')).toBe(true);
      expect(await ttl.getTTL('deleted')).toEqual({ exists: false, hasTtl: false, ttlMs: 0 });
    });

    it('rejects ttl_ms <= 0 with INVALID_ARGUMENT and stores nothing', async () => {
      for (const bad of [0, -1, -5000]) {
        const err = await expectCode(() => ttl.setWithTTL('bad-ttl', bytes('v'), bad), Code.InvalidArgument);
        expect(err.rawMessage).toMatch(/ttl_ms/);
        await expectCode(() => ttl.expire('bad-ttl', bad), Code.InvalidArgument);
      }
      expect(await kv.exists('bad-ttl')).toBe(false);
      await kv.set('bad-ttl-existing', bytes('v'));
      await expectCode(() => ttl.expire('bad-ttl-existing', 0), Code.InvalidArgument);
      expect(await ttl.getTTL('bad-ttl-existing')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
    });

    it('rejects an empty key and an over-limit value with INVALID_ARGUMENT', async () => {
      await expectCode(() => ttl.setWithTTL('', bytes('v'), LONG), Code.InvalidArgument);
      await expectCode(() => ttl.expire('', LONG), Code.InvalidArgument);
      await expectCode(() => ttl.getTTL(''), Code.InvalidArgument);
      await expectCode(() => ttl.persist(''), Code.InvalidArgument);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      await expectCode(() => ttl.setWithTTL('too-big', big, LONG), Code.InvalidArgument);
      expect(await kv.exists('too-big')).toBe(false);
    });

    if (options.scan) {
      it('hides expired keys from Scan, ScanKeys and Count', async () => {
        const scanImpl = handle.get(KeyValueScan);
        if (!scanImpl) throw new Error(`${label} was run with { scan: true } but lacks keyvalue_scan`);
        const scan = kvScan(scanImpl, namespace);
        await kv.set('ttlscan/a', bytes('a'));
        await ttl.setWithTTL('ttlscan/b', bytes('b'), SHORT);
        await ttl.setWithTTL('ttlscan/c', bytes('c'), LONG);
        // The sentinel lives outside the prefix, so reading it cannot expire the scanned key as a side effect.
        await ttl.setWithTTL('ttlscan-sentinel', bytes('s'), SHORT);
        expect(await scan.count('ttlscan/')).toBe(3);
        await waitUntil(gone('ttlscan-sentinel'), 'the sentinel with the same TTL expired');
        expect(await scan.count('ttlscan/')).toBe(2);
        expect((await scan.keys('ttlscan/')).sort()).toEqual(['ttlscan/a', 'ttlscan/c']);
        const pairs = (await scan.scan('ttlscan/')).flatMap((p) => p.items);
        expect(pairs.map((p) => p.key).sort()).toEqual(['ttlscan/a', 'ttlscan/c']);
      });
    }
  });
}
