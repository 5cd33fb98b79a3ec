import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { CONFORMANCE_LIMITS, expectCode, kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL } from '@prism/keyvalue-ttl/conformance';
import { Code, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  BatchDeleteRequestSchema,
  BatchGetRequestSchema,
  BatchSetRequestSchema,
  KeyValueBatch,
  type KeyValueBatchImpl,
  MAX_BATCH_KEYS,
} from './index.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);

/** Small typed client over a keyvalue_batch implementation, used by this and other suites. */
export function kvBatch(impl: KeyValueBatchImpl, namespace: string) {
  return {
    set: async (entries: readonly (readonly [string, Uint8Array])[]) =>
      (
        await impl.batchSet(
          create(BatchSetRequestSchema, {
            namespace,
            entries: entries.map(([key, value]) => ({ key, value })),
          }),
          ctx,
        )
      ).count ?? 0,
    get: async (keys: readonly string[]) => {
      const res = await impl.batchGet(create(BatchGetRequestSchema, { namespace, keys: [...keys] }), ctx);
      return (res.entries ?? []).map((e) => ({
        key: e.key ?? '',
        found: e.found ?? false,
        value: e.value ?? new Uint8Array(),
      }));
    },
    delete: async (keys: readonly string[]) => {
      const res = await impl.batchDelete(
        create(BatchDeleteRequestSchema, { namespace, keys: [...keys] }),
        ctx,
      );
      return { deleted: res.deleted ?? [], deletedCount: res.deletedCount ?? 0 };
    },
  };
}

/** Options of the batch suite. */
export interface BatchConformanceOptions {
  /** The adapter also implements keyvalue_ttl: check that BatchSet clears TTLs like Set does. */
  readonly ttl?: boolean;
}

/**
 * The keyvalue_batch conformance suite: request-order results, missing keys as found=false, in-order
 * application with last-wins, whole-request validation and atomic visibility. The adapter must also
 * implement keyvalue_basic.
 */
export function describeKeyValueBatchConformance(
  label: string,
  factory: PluginFactory,
  options: BatchConformanceOptions = {},
): void {
  describe(`keyvalue_batch conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    let batch: ReturnType<typeof kvBatch>;
    const namespace = uniqueNamespace(label);

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(KeyValueBasic);
      const impl = handle.get(KeyValueBatch);
      if (!basic || !impl) throw new Error(`${label} must implement keyvalue_basic and keyvalue_batch`);
      kv = kvBasic(basic, namespace);
      batch = kvBatch(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('writes entries and reads them back in request order, missing keys as found=false', async () => {
      expect(
        await batch.set([
          ['b1', bytes('one')],
          ['b2', bytes('two')],
          ['b3', bytes('three')],
        ]),
      ).toBe(3);
      expect(await batch.get(['b3', 'missing', 'b1', 'b2'])).toEqual([
        { key: 'b3', found: true, value: bytes('three') },
        { key: 'missing', found: false, value: new Uint8Array() },
        { key: 'b1', found: true, value: bytes('one') },
        { key: 'b2', found: true, value: bytes('two') },
      ]);
    });

    it('answers found=false explicitly for every missing key', async () => {
      const res = await handle
        .get(KeyValueBatch)!
        .batchGet(create(BatchGetRequestSchema, { namespace, keys: ['nope-1', 'nope-2'] }), ctx);
      expect(res.entries?.map((e) => e.found)).toEqual([false, false]);
    });

    it('answers every position of a key requested twice', async () => {
      await kv.set('dup-get', bytes('d'));
      const got = await batch.get(['dup-get', 'x-missing', 'dup-get']);
      expect(got.map((e) => [e.key, e.found])).toEqual([
        ['dup-get', true],
        ['x-missing', false],
        ['dup-get', true],
      ]);
      expect(got[2]!.value).toEqual(bytes('d'));
    });

    it('applies entries in order: the later value of a repeated key wins', async () => {
      await batch.set([
        ['dup-set', bytes('first')],
        ['other', bytes('o')],
        ['dup-set', bytes('last')],
      ]);
      expect((await kv.get('dup-set')).value).toEqual(bytes('last'));
    });

    it('interoperates with keyvalue_basic in both directions, replacing existing values', async () => {
      await kv.set('mixed-1', bytes('basic'));
      await batch.set([
        ['mixed-1', bytes('batch')],
        ['mixed-2', bytes('batch-2')],
      ]);
      expect(await kv.get('mixed-1')).toEqual({ found: true, value: bytes('batch') });
      expect(await kv.get('mixed-2')).toEqual({ found: true, value: bytes('batch-2') });
      await kv.set('mixed-2', bytes('basic-2'));
      expect((await batch.get(['mixed-2']))[0]!.value).toEqual(bytes('basic-2'));
    });

    it('keeps empty, binary and unicode data intact', async () => {
      const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
      await batch.set([
        ['bin', binary],
        ['empty-v', new Uint8Array()],
        ['ключ-🔑', bytes('юникод')],
      ]);
      expect(await batch.get(['bin', 'empty-v', 'ключ-🔑'])).toEqual([
        { key: 'bin', found: true, value: binary },
        { key: 'empty-v', found: true, value: new Uint8Array() },
        { key: 'ключ-🔑', found: true, value: bytes('юникод') },
      ]);
    });

    it('deletes keys with per-key flags in order; repeats and missing keys are false', async () => {
      await batch.set([
        ['d1', bytes('1')],
        ['d2', bytes('2')],
        ['d3', bytes('3')],
      ]);
      expect(await batch.delete(['d2', 'd-missing', 'd1', 'd2'])).toEqual({
        deleted: [true, false, true, false],
        deletedCount: 2,
      });
      expect(await batch.get(['d1', 'd2', 'd3'])).toEqual([
        { key: 'd1', found: false, value: new Uint8Array() },
        { key: 'd2', found: false, value: new Uint8Array() },
        { key: 'd3', found: true, value: bytes('3') },
      ]);
      expect(await kv.exists('d1')).toBe(false);
    });

    it('treats empty batches as no-ops', async () => {
      expect(await batch.set([])).toBe(0);
      expect(await batch.get([])).toEqual([]);
      expect(await batch.delete([])).toEqual({ deleted: [], deletedCount: 0 });
    });

    it(`handles a full batch of ${MAX_BATCH_KEYS} keys`, async () => {
      const entries = Array.from(
        { length: MAX_BATCH_KEYS },
        (_, i) => [`full-${i}`, bytes(`v${i}`)] as const,
      );
      expect(await batch.set(entries)).toBe(MAX_BATCH_KEYS);
      const got = await batch.get(entries.map(([k]) => k));
      expect(got).toHaveLength(MAX_BATCH_KEYS);
      expect(got).toEqual(entries.map(([key, value]) => ({ key, found: true, value })));
      const del = await batch.delete(entries.map(([k]) => k));
      expect(del.deletedCount).toBe(MAX_BATCH_KEYS);
    });

    it('validates the whole request first: one bad entry stores nothing', async () => {
      const err = await expectCode(
        () =>
          batch.set([
            ['v-ok-1', bytes('a')],
            ['v-ok-2', bytes('b')],
            ['', bytes('c')],
          ]),
        Code.InvalidArgument,
      );
      expect(err.rawMessage).toMatch(/entries\[2\]\.key/);
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const verr = await expectCode(
        () =>
          batch.set([
            ['v-ok-3', bytes('a')],
            ['v-big', big],
          ]),
        Code.InvalidArgument,
      );
      expect(verr.rawMessage).toMatch(/entries\[1\]\.value/);
      const got = await batch.get(['v-ok-1', 'v-ok-2', 'v-ok-3', 'v-big']);
      expect(got.map((e) => e.found)).toEqual([false, false, false, false]);
    });

    it('rejects bad keys in BatchGet and BatchDelete, and oversized batches', async () => {
      await kv.set('survivor', bytes('s'));
      const gerr = await expectCode(() => batch.get(['a', '']), Code.InvalidArgument);
      expect(gerr.rawMessage).toMatch(/keys\[1\]/);
      await expectCode(
        () => batch.delete(['survivor', 'x'.repeat(CONFORMANCE_LIMITS.maxKeyBytes + 1)]),
        Code.InvalidArgument,
      );
      expect(await kv.exists('survivor')).toBe(true);
      const tooMany = Array.from({ length: MAX_BATCH_KEYS + 1 }, (_, i) => `many-${i}`);
      await expectCode(() => batch.get(tooMany), Code.InvalidArgument);
      await expectCode(() => batch.set(tooMany.map((k) => [k, bytes('x')] as const)), Code.InvalidArgument);
      expect(await kv.exists('many-0')).toBe(false);
    });

    it('makes a batch visible all at once to concurrent readers', async () => {
      await batch.set([
        ['atom-a', bytes('0')],
        ['atom-b', bytes('0')],
      ]);
      let writing = true;
      const writer = (async () => {
        for (let i = 1; i <= 50; i++)
          await batch.set([
            ['atom-a', bytes(String(i))],
            ['atom-b', bytes(String(i))],
          ]);
        writing = false;
      })();
      const torn: string[] = [];
      while (writing) {
        const [a, b] = await batch.get(['atom-a', 'atom-b']);
        const av = new TextDecoder().decode(a!.value);
        const bv = new TextDecoder().decode(b!.value);
        if (av !== bv) torn.push(`${av}/${bv}`);
      }
      await writer;
      expect(torn).toEqual([]);
      expect((await kv.get('atom-b')).value).toEqual(bytes('50'));
    });

    it('keeps every write of 20 concurrent batches', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, w) =>
          batch.set(Array.from({ length: 10 }, (_, i) => [`cc-${w}-${i}`, bytes(`${w}.${i}`)] as const)),
        ),
      );
      const keys = Array.from({ length: 200 }, (_, n) => `cc-${Math.floor(n / 10)}-${n % 10}`);
      const got = await batch.get(keys);
      expect(got.map((e) => e.value)).toEqual(keys.map((_, n) => bytes(`${Math.floor(n / 10)}.${n % 10}`)));
    });

    it('isolates namespaces sharing the backend', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: CONFORMANCE_LIMITS });
      try {
        const otherBatch = kvBatch(other.get(KeyValueBatch)!, otherNs);
        await batch.set([['iso-1', bytes('mine')]]);
        expect((await otherBatch.get(['iso-1']))[0]!.found).toBe(false);
        expect(await otherBatch.delete(['iso-1'])).toEqual({ deleted: [false], deletedCount: 0 });
        await otherBatch.set([['iso-1', bytes('theirs')]]);
        expect((await kv.get('iso-1')).value).toEqual(bytes('mine'));
      } finally {
        await other.close();
      }
    });

    if (options.ttl)
      it('clears the TTL of keys it overwrites, like Set', async () => {
        const ttlImpl = handle.get(KeyValueTTL);
        if (!ttlImpl)
          throw new Error(`${label} was run with { ttl: true } but does not implement keyvalue_ttl`);
        const ttl = kvTTL(ttlImpl, namespace);
        await ttl.setWithTTL('ttl-b', bytes('x'), 60_000);
        await batch.set([['ttl-b', bytes('y')]]);
        expect(await ttl.getTTL('ttl-b')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
      });
  });
}
