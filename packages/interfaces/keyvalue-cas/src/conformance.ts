import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { CONFORMANCE_LIMITS, expectCode, kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { kvBatch } from '@prism/keyvalue-batch/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  CompareAndDeleteRequestSchema,
  CompareAndSetRequestSchema,
  GetVersionedRequestSchema,
  KeyValueCAS,
  type KeyValueCASImpl,
} from './index.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A CompareAndSet condition: none, an expected etag, or create-only. */
export type CasCondition = { readonly etag: string } | { readonly createOnly: true } | undefined;

/** Small typed client over a keyvalue_cas implementation, used by this and other suites. */
export function kvCAS(impl: KeyValueCASImpl, namespace: string) {
  return {
    get: async (key: string) => {
      const res = await impl.getVersioned(create(GetVersionedRequestSchema, { namespace, key }), ctx);
      return { found: res.found ?? false, value: res.value ?? new Uint8Array(), etag: res.etag ?? '' };
    },
    set: async (key: string, value: Uint8Array, cond?: CasCondition) => {
      const req = create(CompareAndSetRequestSchema, {
        namespace,
        key,
        value,
        expectedEtag: cond && 'etag' in cond ? cond.etag : '',
        createOnly: cond !== undefined && 'createOnly' in cond,
      });
      return (await impl.compareAndSet(req, ctx)).etag ?? '';
    },
    delete: async (key: string, expectedEtag: string) => {
      await impl.compareAndDelete(
        create(CompareAndDeleteRequestSchema, { namespace, key, expectedEtag }),
        ctx,
      );
    },
  };
}

/** Options of the CAS suite: other write interfaces the adapter has, whose writes must change etags. */
export interface CASConformanceOptions {
  /** The adapter implements keyvalue_ttl: SetWithTTL changes the etag; CompareAndSet clears the TTL. */
  readonly ttl?: boolean;
  /** The adapter implements keyvalue_batch: BatchSet and BatchDelete change etags. */
  readonly batch?: boolean;
}

/**
 * The keyvalue_cas conformance suite: etags change on every write, mismatches answer ABORTED and
 * change nothing, create-only answers ALREADY_EXISTS, and N concurrent read-modify-write loops that
 * retry on ABORTED lose no update. The adapter must also implement keyvalue_basic.
 */
export function describeKeyValueCASConformance(
  label: string,
  factory: PluginFactory,
  options: CASConformanceOptions = {},
): void {
  describe(`keyvalue_cas conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    let cas: ReturnType<typeof kvCAS>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(KeyValueBasic);
      const impl = handle.get(KeyValueCAS);
      if (!basic || !impl) throw new Error(`${label} must implement keyvalue_basic and keyvalue_cas`);
      kv = kvBasic(basic, namespace);
      cas = kvCAS(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('answers found=false with an empty etag for a missing key', async () => {
      expect(await cas.get('missing')).toEqual({ found: false, value: new Uint8Array(), etag: '' });
      const raw = await handle
        .get(KeyValueCAS)!
        .getVersioned(create(GetVersionedRequestSchema, { namespace, key: 'missing' }), ctx);
      expect(raw.found).toBe(false);
    });

    it('returns a non-empty etag for values written by Set, stable while nobody writes', async () => {
      await kv.set('plain', bytes('v'));
      const a = await cas.get('plain');
      expect(a.found).toBe(true);
      expect(a.value).toEqual(bytes('v'));
      expect(a.etag).not.toBe('');
      expect((await cas.get('plain')).etag).toBe(a.etag);
    });

    it('creates with create_only and returns the etag GetVersioned reports', async () => {
      const etag = await cas.set('created', bytes('c1'), { createOnly: true });
      expect(etag).not.toBe('');
      expect(await cas.get('created')).toEqual({ found: true, value: bytes('c1'), etag });
      expect(await kv.get('created')).toEqual({ found: true, value: bytes('c1') });
    });

    it('answers ALREADY_EXISTS for create_only on an existing key and keeps the value', async () => {
      await kv.set('taken', bytes('orig'));
      const before = await cas.get('taken');
      const err = await expectCode(
        () => cas.set('taken', bytes('new'), { createOnly: true }),
        Code.AlreadyExists,
      );
      expect(err.rawMessage).toContain('taken');
      expect(await cas.get('taken')).toEqual(before);
    });

    it('writes when the etag matches, returning a new etag; the old etag is then ABORTED', async () => {
      const e1 = await cas.set('versioned', bytes('v1'), { createOnly: true });
      const e2 = await cas.set('versioned', bytes('v2'), { etag: e1 });
      expect(e2).not.toBe(e1);
      expect(await cas.get('versioned')).toEqual({ found: true, value: bytes('v2'), etag: e2 });
      const err = await expectCode(() => cas.set('versioned', bytes('v3'), { etag: e1 }), Code.Aborted);
      expect(err.rawMessage).toContain('versioned');
      expect(await cas.get('versioned')).toEqual({ found: true, value: bytes('v2'), etag: e2 });
    });

    it('changes the etag on every write, even of the same bytes', async () => {
      const seen = new Set<string>();
      await kv.set('same', bytes('x'));
      seen.add((await cas.get('same')).etag);
      await kv.set('same', bytes('x'));
      seen.add((await cas.get('same')).etag);
      seen.add(await cas.set('same', bytes('x')));
      const last = await cas.get('same');
      seen.add(await cas.set('same', bytes('x'), { etag: last.etag }));
      expect(seen.size).toBe(4);
    });

    it('gives a deleted and re-created key a new etag (no ABA)', async () => {
      const e1 = await cas.set('aba', bytes('same'), { createOnly: true });
      expect(await kv.delete('aba')).toBe(true);
      await kv.set('aba', bytes('same'));
      expect((await cas.get('aba')).etag).not.toBe(e1);
      await expectCode(() => cas.set('aba', bytes('other'), { etag: e1 }), Code.Aborted);
      expect((await kv.get('aba')).value).toEqual(bytes('same'));
    });

    it('answers ABORTED for an expected etag on a missing key, creating nothing', async () => {
      const e = await cas.set('vanishing', bytes('v'), { createOnly: true });
      await kv.delete('vanishing');
      const err = await expectCode(() => cas.set('vanishing', bytes('again'), { etag: e }), Code.Aborted);
      expect(err.rawMessage).toContain('vanishing');
      expect(await kv.exists('vanishing')).toBe(false);
    });

    it('writes unconditionally without a condition and returns the etag', async () => {
      const e1 = await cas.set('uncond', bytes('1'));
      const e2 = await cas.set('uncond', bytes('2'));
      expect(e1).not.toBe('');
      expect(e2).not.toBe(e1);
      expect(await cas.get('uncond')).toEqual({ found: true, value: bytes('2'), etag: e2 });
    });

    it('deletes with a matching etag; a stale etag is ABORTED and keeps the key', async () => {
      const e1 = await cas.set('cad', bytes('1'), { createOnly: true });
      const e2 = await cas.set('cad', bytes('2'), { etag: e1 });
      await expectCode(() => cas.delete('cad', e1), Code.Aborted);
      expect(await cas.get('cad')).toEqual({ found: true, value: bytes('2'), etag: e2 });
      await cas.delete('cad', e2);
      expect(await kv.exists('cad')).toBe(false);
      expect((await cas.get('cad')).found).toBe(false);
      await expectCode(() => cas.delete('cad', e2), Code.Aborted);
    });

    it('handles empty and binary values', async () => {
      const e = await cas.set('empty-cas', new Uint8Array(), { createOnly: true });
      expect(await cas.get('empty-cas')).toEqual({ found: true, value: new Uint8Array(), etag: e });
      const binary = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      const e2 = await cas.set('empty-cas', binary, { etag: e });
      expect(await cas.get('empty-cas')).toEqual({ found: true, value: binary, etag: e2 });
    });

    it('validates input with INVALID_ARGUMENT and changes nothing', async () => {
      await kv.set('valid', bytes('v'));
      const { etag } = await cas.get('valid');
      const both = create(CompareAndSetRequestSchema, {
        namespace,
        key: 'valid',
        value: bytes('x'),
        expectedEtag: etag,
        createOnly: true,
      });
      await expectCode(() => handle.get(KeyValueCAS)!.compareAndSet(both, ctx), Code.InvalidArgument);
      await expectCode(() => cas.delete('valid', ''), Code.InvalidArgument);
      await expectCode(() => cas.get(''), Code.InvalidArgument);
      await expectCode(() => cas.set('', bytes('x')), Code.InvalidArgument);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      await expectCode(() => cas.set('valid', big, { etag }), Code.InvalidArgument);
      expect(await cas.get('valid')).toEqual({ found: true, value: bytes('v'), etag });
    });

    it('loses no update with 20 concurrent read-modify-write loops retrying on ABORTED', async () => {
      const N = 20;
      await cas.set('counter', bytes('0'), { createOnly: true });
      let conflicts = 0;
      const increment = async () => {
        for (let attempt = 0; attempt < 1000; attempt++) {
          const cur = await cas.get('counter');
          try {
            await cas.set('counter', bytes(String(Number(text(cur.value)) + 1)), { etag: cur.etag });
            return;
          } catch (err) {
            if (ConnectError.from(err).code !== Code.Aborted) throw err;
            conflicts++;
          }
        }
        throw new Error('increment did not succeed within 1000 attempts');
      };
      await Promise.all(Array.from({ length: N }, increment));
      expect(text((await cas.get('counter')).value)).toBe(String(N));
      // The loops start together, so they must have collided; without conflicts the test proves nothing.
      expect(conflicts).toBeGreaterThan(0);
    });

    it('lets exactly one of 20 concurrent create_only writers win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => cas.set('race', bytes(`w${i}`), { createOnly: true })),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(Code.AlreadyExists);
      const got = await cas.get('race');
      expect(got.etag).toBe((winners[0] as PromiseFulfilledResult<string>).value);
    });

    it('lets exactly one of 20 concurrent writers holding the same etag win', async () => {
      const e = await cas.set('contended', bytes('base'), { createOnly: true });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => cas.set('contended', bytes(`w${i}`), { etag: e })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(Code.Aborted);
    });

    it('isolates namespaces: an etag from one namespace is worthless in another', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: CONFORMANCE_LIMITS });
      try {
        const otherCas = kvCAS(other.get(KeyValueCAS)!, otherNs);
        const mine = await cas.set('iso', bytes('mine'), { createOnly: true });
        expect((await otherCas.get('iso')).found).toBe(false);
        await expectCode(() => otherCas.set('iso', bytes('theirs'), { etag: mine }), Code.Aborted);
        await otherCas.set('iso', bytes('theirs'), { createOnly: true });
        expect(await cas.get('iso')).toEqual({ found: true, value: bytes('mine'), etag: mine });
      } finally {
        await other.close();
      }
    });

    if (options.ttl)
      it('changes the etag on SetWithTTL, and CompareAndSet clears the TTL', async () => {
        const ttlImpl = handle.get(KeyValueTTL);
        if (!ttlImpl)
          throw new Error(`${label} was run with { ttl: true } but does not implement keyvalue_ttl`);
        const ttl = kvTTL(ttlImpl, namespace);
        const e1 = await cas.set('ttl-cas', bytes('v'), { createOnly: true });
        await ttl.setWithTTL('ttl-cas', bytes('v'), 60_000);
        const e2 = (await cas.get('ttl-cas')).etag;
        expect(e2).not.toBe(e1);
        await cas.set('ttl-cas', bytes('w'), { etag: e2 });
        expect(await ttl.getTTL('ttl-cas')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
      });

    if (options.batch)
      it('changes etags on BatchSet and BatchDelete', async () => {
        const batchImpl = handle.get(KeyValueBatch);
        if (!batchImpl)
          throw new Error(`${label} was run with { batch: true } but does not implement keyvalue_batch`);
        const batch = kvBatch(batchImpl, namespace);
        const e1 = await cas.set('batch-cas', bytes('v'), { createOnly: true });
        await batch.set([['batch-cas', bytes('v')]]);
        const e2 = (await cas.get('batch-cas')).etag;
        expect(e2).not.toBe(e1);
        await expectCode(() => cas.set('batch-cas', bytes('x'), { etag: e1 }), Code.Aborted);
        await batch.delete(['batch-cas']);
        await expectCode(() => cas.delete('batch-cas', e2), Code.Aborted);
      });
  });
}
