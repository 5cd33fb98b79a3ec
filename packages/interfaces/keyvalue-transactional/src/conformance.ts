import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { CONFORMANCE_LIMITS, expectCode, kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { kvCAS } from '@prism/keyvalue-cas/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL, waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, type PluginFactory, type PluginHandle } from '@prism/sdk';
import {
  KeyValueTransactional,
  type KeyValueTransactionalImpl,
  MAX_TRANSACTION_OPS,
  type TransactConditionSchema,
  type TransactOperationSchema,
  TransactRequestSchema,
} from './index.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Builders for conditions and operations, so suites read like the transaction they run. */
export const tx = {
  set: (key: string, value: Uint8Array, ttlMs = 0): MessageInitShape<typeof TransactOperationSchema> => ({
    kind: { case: 'set', value: { key, value, ttlMs: BigInt(ttlMs) } },
  }),
  del: (key: string): MessageInitShape<typeof TransactOperationSchema> => ({
    kind: { case: 'delete', value: { key } },
  }),
  exists: (key: string, exists = true): MessageInitShape<typeof TransactConditionSchema> => ({
    key,
    check: { case: 'exists', value: exists },
  }),
  etag: (key: string, etag: string): MessageInitShape<typeof TransactConditionSchema> => ({
    key,
    check: { case: 'etag', value: etag },
  }),
  value: (key: string, value: Uint8Array): MessageInitShape<typeof TransactConditionSchema> => ({
    key,
    check: { case: 'value', value },
  }),
};

/** Small typed client over a keyvalue_transactional implementation. Returns the `existed` flags. */
export function kvTx(impl: KeyValueTransactionalImpl, namespace: string) {
  return async (
    operations: MessageInitShape<typeof TransactOperationSchema>[],
    conditions: MessageInitShape<typeof TransactConditionSchema>[] = [],
  ): Promise<boolean[]> => {
    const res = await impl.transact(
      create(TransactRequestSchema, { namespace, operations, conditions }),
      ctx,
    );
    return (res.results ?? []).map((r) => r.existed ?? false);
  };
}

/** Options of the transactional suite. */
export interface TransactionalConformanceOptions {
  /** The adapter implements keyvalue_cas: check etag conditions and that transactions change etags. */
  readonly cas?: boolean;
  /** The adapter implements keyvalue_ttl: check that sets clear TTLs and ttl_ms sets one. */
  readonly ttl?: boolean;
}

/**
 * The keyvalue_transactional conformance suite: in-order application with last-wins, conditions checked
 * against the state before the transaction, all-or-nothing on failed conditions and invalid input, and
 * no lost updates or double creates under concurrency. The adapter must also implement keyvalue_basic.
 */
export function describeKeyValueTransactionalConformance(
  label: string,
  factory: PluginFactory,
  options: TransactionalConformanceOptions = {},
): void {
  describe(`keyvalue_transactional conformance: ${label}`, () => {
    let handle: PluginHandle;
    let kv: ReturnType<typeof kvBasic>;
    let transact: ReturnType<typeof kvTx>;
    const namespace = uniqueNamespace(label);
    const present = async (...keys: string[]) => Promise.all(keys.map((k) => kv.exists(k)));

    beforeAll(async () => {
      handle = await factory({ namespace, limits: CONFORMANCE_LIMITS });
      const basic = handle.get(KeyValueBasic);
      const impl = handle.get(KeyValueTransactional);
      if (!basic || !impl)
        throw new Error(`${label} must implement keyvalue_basic and keyvalue_transactional`);
      kv = kvBasic(basic, namespace);
      transact = kvTx(impl, namespace);
    });
    afterAll(async () => {
      await handle?.close();
    });

    it('applies sets and deletes together and reports whether each key existed', async () => {
      await kv.set('t-old', bytes('old'));
      await kv.set('t-gone', bytes('bye'));
      const existed = await transact([
        tx.set('t-new', bytes('n')),
        tx.set('t-old', bytes('o2')),
        tx.del('t-gone'),
        tx.del('t-never'),
      ]);
      expect(existed).toEqual([false, true, true, false]);
      expect(await kv.get('t-new')).toEqual({ found: true, value: bytes('n') });
      expect(await kv.get('t-old')).toEqual({ found: true, value: bytes('o2') });
      expect(await present('t-gone', 't-never')).toEqual([false, false]);
    });

    it('applies operations in order: the last operation on a key wins', async () => {
      const existed = await transact([
        tx.set('o-1', bytes('a')),
        tx.set('o-1', bytes('b')),
        tx.set('o-2', bytes('x')),
        tx.del('o-2'),
        tx.del('o-3'),
        tx.set('o-3', bytes('back')),
        tx.del('o-1'),
        tx.set('o-1', bytes('c')),
      ]);
      expect(existed).toEqual([false, true, false, true, false, false, true, false]);
      expect(await kv.get('o-1')).toEqual({ found: true, value: bytes('c') });
      expect(await kv.exists('o-2')).toBe(false);
      expect(await kv.get('o-3')).toEqual({ found: true, value: bytes('back') });
    });

    it('applies when every condition holds', async () => {
      await kv.set('c-a', bytes('1'));
      await transact(
        [tx.set('c-a', bytes('2')), tx.set('c-b', bytes('new'))],
        [tx.exists('c-a'), tx.exists('c-b', false), tx.value('c-a', bytes('1'))],
      );
      expect((await kv.get('c-a')).value).toEqual(bytes('2'));
      expect((await kv.get('c-b')).value).toEqual(bytes('new'));
    });

    it('checks conditions against the state before the transaction', async () => {
      // exists=false on a key the transaction itself creates still holds: conditions see the old state.
      await transact([tx.set('pre-1', bytes('v'))], [tx.exists('pre-1', false)]);
      expect(await kv.exists('pre-1')).toBe(true);
      await expectCode(
        () => transact([tx.set('pre-1', bytes('w'))], [tx.exists('pre-1', false)]),
        Code.Aborted,
      );
      expect((await kv.get('pre-1')).value).toEqual(bytes('v'));
    });

    it('applies nothing when a condition fails, naming the failing condition', async () => {
      await kv.set('keep', bytes('k'));
      await kv.set('held', bytes('h'));
      const failing = [
        [tx.exists('nobody-here')],
        [tx.exists('held', false)],
        [tx.value('held', bytes('not-h'))],
        [tx.value('nobody-here', new Uint8Array())],
        [tx.exists('held'), tx.exists('keep', false)],
      ];
      for (const conditions of failing) {
        const err = await expectCode(
          () =>
            transact(
              [tx.set('keep', bytes('changed')), tx.del('held'), tx.set('fresh', bytes('f'))],
              conditions,
            ),
          Code.Aborted,
        );
        const index = conditions.length - 1;
        expect(err.rawMessage).toContain(`conditions[${index}]`);
        expect(await kv.get('keep')).toEqual({ found: true, value: bytes('k') });
        expect(await kv.get('held')).toEqual({ found: true, value: bytes('h') });
        expect(await kv.exists('fresh')).toBe(false);
      }
    });

    it('matches empty values exactly in value conditions', async () => {
      await kv.set('empty-t', new Uint8Array());
      await transact([tx.set('empty-ok', bytes('y'))], [tx.value('empty-t', new Uint8Array())]);
      expect(await kv.exists('empty-ok')).toBe(true);
      await expectCode(
        () => transact([tx.set('empty-no', bytes('y'))], [tx.value('empty-t', bytes('\0'))]),
        Code.Aborted,
      );
      expect(await kv.exists('empty-no')).toBe(false);
    });

    it('rejects invalid transactions with INVALID_ARGUMENT and applies nothing', async () => {
      await kv.set('inv', bytes('i'));
      const noOps = await expectCode(() => transact([]), Code.InvalidArgument);
      expect(noOps.rawMessage).toMatch(/operations/);
      const badKey = await expectCode(
        () => transact([tx.set('inv-new', bytes('x')), tx.set('', bytes('y'))]),
        Code.InvalidArgument,
      );
      expect(badKey.rawMessage).toContain('operations[1].set.key');
      const big = new Uint8Array(CONFORMANCE_LIMITS.maxValueBytes + 1);
      const bigErr = await expectCode(
        () => transact([tx.del('inv'), tx.set('inv-big', big)]),
        Code.InvalidArgument,
      );
      expect(bigErr.rawMessage).toContain('operations[1].set.value');
      await expectCode(() => transact([tx.set('inv-new', bytes('x'), -1)]), Code.InvalidArgument);
      await expectCode(() => transact([tx.del('inv'), {}]), Code.InvalidArgument);
      await expectCode(() => transact([tx.del('inv')], [{ key: 'inv' }]), Code.InvalidArgument);
      await expectCode(() => transact([tx.del('inv')], [tx.etag('inv', '')]), Code.InvalidArgument);
      await expectCode(() => transact([tx.del('inv')], [tx.exists('')]), Code.InvalidArgument);
      const tooMany = Array.from({ length: MAX_TRANSACTION_OPS + 1 }, (_, i) =>
        tx.set(`many-${i}`, bytes('m')),
      );
      await expectCode(() => transact(tooMany), Code.InvalidArgument);
      expect(await kv.get('inv')).toEqual({ found: true, value: bytes('i') });
      expect(await present('inv-new', 'inv-big', 'many-0')).toEqual([false, false, false]);
    });

    it(`applies a transaction of ${MAX_TRANSACTION_OPS} operations`, async () => {
      const ops = Array.from({ length: MAX_TRANSACTION_OPS }, (_, i) =>
        i % 2 === 0 ? tx.set(`big-${i}`, bytes(`v${i}`)) : tx.del(`big-${i - 1}`),
      );
      const existed = await transact(ops);
      expect(existed.filter(Boolean)).toHaveLength(MAX_TRANSACTION_OPS / 2);
      expect(await present('big-0', 'big-998')).toEqual([false, false]);
      await transact(
        [tx.set('big-last', bytes('x'))],
        Array.from({ length: MAX_TRANSACTION_OPS }, (_, i) => tx.exists(`big-${i}`, false)),
      );
      expect(await kv.exists('big-last')).toBe(true);
    });

    it('lets exactly one of 20 concurrent create-if-absent transactions win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          transact(
            [tx.set('lock', bytes(`owner-${i}`)), tx.set(`lock-owner-${i}`, bytes('me'))],
            [tx.exists('lock', false)],
          ),
        ),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(Code.Aborted);
      expect((await kv.get('lock')).value).toEqual(bytes(`owner-${won[0]}`));
      const owners = await present(...Array.from({ length: 20 }, (_, i) => `lock-owner-${i}`));
      expect(owners.filter(Boolean)).toHaveLength(1);
    });

    it('keeps an invariant across keys under 20 concurrent transfers (value conditions, retry on ABORTED)', async () => {
      const N = 20;
      await transact([tx.set('acct-a', bytes(String(N))), tx.set('acct-b', bytes('0'))]);
      const transfer = async () => {
        for (let attempt = 0; attempt < 1000; attempt++) {
          const a = (await kv.get('acct-a')).value;
          const b = (await kv.get('acct-b')).value;
          try {
            await transact(
              [
                tx.set('acct-a', bytes(String(Number(text(a)) - 1))),
                tx.set('acct-b', bytes(String(Number(text(b)) + 1))),
              ],
              [tx.value('acct-a', a), tx.value('acct-b', b)],
            );
            return;
          } catch (err) {
            if (ConnectError.from(err).code !== Code.Aborted) throw err;
          }
        }
        throw new Error('transfer did not succeed within 1000 attempts');
      };
      await Promise.all(Array.from({ length: N }, transfer));
      expect(text((await kv.get('acct-a')).value)).toBe('0');
      expect(text((await kv.get('acct-b')).value)).toBe(String(N));
    });

    it('never exposes half a transaction to concurrent readers', async () => {
      await transact([tx.set('pair-x', bytes('0')), tx.set('pair-y', bytes('0'))]);
      let writing = true;
      const writer = (async () => {
        for (let i = 1; i <= 40; i++)
          await transact([tx.set('pair-x', bytes(String(i))), tx.set('pair-y', bytes(String(i)))]);
        writing = false;
      })();
      const torn: string[] = [];
      // Both keys always hold the same number after a transaction, and numbers only grow. Reading
      // x, y, x in turn: y must be >= the first x and the second x >= y, whatever order the backend
      // writes the two keys in; a torn (non-atomic) transaction breaks one of the two.
      const num = async (key: string) => Number(text((await kv.get(key)).value));
      while (writing) {
        const x1 = await num('pair-x');
        const y = await num('pair-y');
        const x2 = await num('pair-x');
        if (y < x1 || x2 < y) torn.push(`x=${x1} y=${y} x=${x2}`);
      }
      await writer;
      expect(torn).toEqual([]);
    });

    it('isolates namespaces: conditions and operations only see their own namespace', async () => {
      const otherNs = `${namespace}-other`;
      const other = await factory({ namespace: otherNs, limits: CONFORMANCE_LIMITS });
      try {
        const otherTx = kvTx(other.get(KeyValueTransactional)!, otherNs);
        await kv.set('iso-t', bytes('mine'));
        await expectCode(() => otherTx([tx.set('iso-t2', bytes('x'))], [tx.exists('iso-t')]), Code.Aborted);
        expect(
          await otherTx([tx.set('iso-t', bytes('theirs')), tx.del('iso-t')], [tx.exists('iso-t', false)]),
        ).toEqual([false, true]);
        expect((await kv.get('iso-t')).value).toEqual(bytes('mine'));
      } finally {
        await other.close();
      }
    });

    it('expires keys written with ttl_ms', async () => {
      await transact([tx.set('t-ttl', bytes('brief'), 250), tx.set('t-keep', bytes('stays'))]);
      expect((await kv.get('t-ttl')).found).toBe(true);
      await waitUntil(async () => !(await kv.get('t-ttl')).found, 't-ttl expired');
      expect(await kv.exists('t-keep')).toBe(true);
    });

    if (options.ttl)
      it('clears the TTL on a set without ttl_ms and reports the TTL of one with it', async () => {
        const ttlImpl = handle.get(KeyValueTTL);
        if (!ttlImpl)
          throw new Error(`${label} was run with { ttl: true } but does not implement keyvalue_ttl`);
        const ttl = kvTTL(ttlImpl, namespace);
        await ttl.setWithTTL('t-clear', bytes('x'), 60_000);
        await transact([tx.set('t-clear', bytes('y')), tx.set('t-with', bytes('z'), 60_000)]);
        expect(await ttl.getTTL('t-clear')).toEqual({ exists: true, hasTtl: false, ttlMs: 0 });
        const t = await ttl.getTTL('t-with');
        expect(t.hasTtl).toBe(true);
        expect(t.ttlMs).toBeGreaterThan(0);
        expect(t.ttlMs).toBeLessThanOrEqual(60_000);
      });

    if (options.cas)
      it('checks etag conditions and changes the etag of every key it writes', async () => {
        const casImpl = handle.get(KeyValueCAS);
        if (!casImpl)
          throw new Error(`${label} was run with { cas: true } but does not implement keyvalue_cas`);
        const cas = kvCAS(casImpl, namespace);
        const e1 = await cas.set('t-etag', bytes('1'), { createOnly: true });
        await transact([tx.set('t-etag', bytes('2')), tx.set('t-side', bytes('s'))], [tx.etag('t-etag', e1)]);
        const after = await cas.get('t-etag');
        expect(after.value).toEqual(bytes('2'));
        expect(after.etag).not.toBe(e1);
        const err = await expectCode(
          () => transact([tx.set('t-etag', bytes('3'))], [tx.etag('t-etag', e1)]),
          Code.Aborted,
        );
        expect(err.rawMessage).toContain('conditions[0]');
        expect((await cas.get('t-etag')).value).toEqual(bytes('2'));
        // Re-writing the same bytes still changes the etag.
        await transact([tx.set('t-etag', bytes('2'))]);
        expect((await cas.get('t-etag')).etag).not.toBe(after.etag);
        await expectCode(
          () => transact([tx.del('t-etag')], [tx.etag('t-missing', after.etag)]),
          Code.Aborted,
        );
      });
  });
}
