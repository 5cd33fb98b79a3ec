import { afterEach, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { expectCode, kvBasic } from '@prism/keyvalue-basic/conformance';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { kvBatch } from '@prism/keyvalue-batch/conformance';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { kvCAS } from '@prism/keyvalue-cas/conformance';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { kvTx, tx } from '@prism/keyvalue-transactional/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL, waitUntil } from '@prism/keyvalue-ttl/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import plugin from './index.js';

// MemStore-specific behaviour of batch, cas and transactional that the shared suites cannot know about:
// max_keys (all or nothing) and expired-but-not-yet-swept keys.

const bytes = (s: string) => new TextEncoder().encode(s);
/** No background sweep in practice: only reads (and capacity checks) can notice an expired key. */
const NO_SWEEP = { sweep_interval_ms: 2_147_483_647 };
const handles: PluginHandle[] = [];

async function open(config: Record<string, unknown>, namespace = 'cond') {
  const handle = await instantiatePlugin(plugin, config, { namespace });
  handles.push(handle);
  return {
    handle,
    kv: kvBasic(handle.get(KeyValueBasic)!, namespace),
    ttl: kvTTL(handle.get(KeyValueTTL)!, namespace),
    batch: kvBatch(handle.get(KeyValueBatch)!, namespace),
    cas: kvCAS(handle.get(KeyValueCAS)!, namespace),
    transact: kvTx(handle.get(KeyValueTransactional)!, namespace),
  };
}

/** Whether fn succeeds; false when it fails with `code` (anything else is rethrown). */
async function succeeds(fn: () => Promise<unknown>, code: Code): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (ConnectError.from(err).code !== code) throw err;
    return false;
  }
}

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

describe('memstore batch/cas/transact under max_keys', () => {
  it('rejects a BatchSet that adds too many keys as a whole, and accepts updates', async () => {
    const { kv, batch } = await open({ max_keys: 3 });
    await batch.set([
      ['a', bytes('1')],
      ['b', bytes('1')],
    ]);
    const err = await expectCode(
      () =>
        batch.set([
          ['a', bytes('2')],
          ['c', bytes('1')],
          ['d', bytes('1')],
        ]),
      Code.ResourceExhausted,
    );
    expect(err.rawMessage).toMatch(/max_keys is 3 \(this write would add 2 keys\)/);
    expect(err.rawMessage).toMatch(/namespace "cond"/);
    expect(await batch.get(['a', 'c', 'd'])).toEqual([
      { key: 'a', found: true, value: bytes('1') },
      { key: 'c', found: false, value: new Uint8Array() },
      { key: 'd', found: false, value: new Uint8Array() },
    ]);
    // A key given twice is one new key; existing keys are updates.
    expect(
      await batch.set([
        ['c', bytes('x')],
        ['a', bytes('3')],
        ['c', bytes('y')],
      ]),
    ).toBe(3);
    expect((await kv.get('c')).value).toEqual(bytes('y'));
    await batch.set([
      ['a', bytes('4')],
      ['b', bytes('4')],
    ]);
  });

  it('counts a transaction by its final state: deletes make room, intermediate keys do not count', async () => {
    const { kv, transact, cas } = await open({ max_keys: 2 });
    await transact([tx.set('a', bytes('1')), tx.set('b', bytes('1'))]);
    await expectCode(() => transact([tx.set('c', bytes('1'))]), Code.ResourceExhausted);
    // Net +1 with a delete first: still too many, and the delete is not applied either.
    await expectCode(
      () => transact([tx.del('a'), tx.set('c', bytes('1')), tx.set('d', bytes('1'))]),
      Code.ResourceExhausted,
    );
    expect(await kv.exists('a')).toBe(true);
    expect(await kv.exists('c')).toBe(false);
    // Replacing one key by another at capacity, whatever the order.
    expect(await transact([tx.set('c', bytes('1')), tx.del('a')])).toEqual([false, true]);
    // A key created and deleted again within the transaction never takes a slot.
    expect(await transact([tx.set('tmp', bytes('t')), tx.del('tmp'), tx.set('b', bytes('2'))])).toEqual([
      false,
      true,
      true,
    ]);
    expect(await Promise.all(['a', 'b', 'c', 'tmp'].map((k) => kv.exists(k)))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    await expectCode(() => cas.set('new', bytes('n'), { createOnly: true }), Code.ResourceExhausted);
    expect(await cas.set('b', bytes('3'))).not.toBe('');
  });

  it('admits a batch once an expired key frees its slot, without a background sweep', async () => {
    const { ttl, batch } = await open({ max_keys: 1, ...NO_SWEEP });
    await ttl.setWithTTL('brief', bytes('b'), 100);
    await waitUntil(
      () => succeeds(() => batch.set([['next', bytes('n')]]), Code.ResourceExhausted),
      'the expired key made room',
    );
    expect(await batch.get(['brief', 'next'])).toEqual([
      { key: 'brief', found: false, value: new Uint8Array() },
      { key: 'next', found: true, value: bytes('n') },
    ]);
  });
});

describe('memstore conditions on expired keys', () => {
  it('treats an expired key as missing in transaction conditions and CAS, before any sweep', async () => {
    const { kv, ttl, cas, transact } = await open(NO_SWEEP);
    const e1 = await cas.set('exp-1', bytes('v'), { createOnly: true });
    const e2 = await cas.set('exp-2', bytes('v'), { createOnly: true });
    // exp-1's TTL is set first, so it expires no later than exp-2.
    expect(await ttl.expire('exp-1', 100)).toBe(true);
    expect(await ttl.expire('exp-2', 100)).toBe(true);
    await waitUntil(
      () => succeeds(() => transact([tx.set('seen', bytes('s'))], [tx.exists('exp-2', false)]), Code.Aborted),
      'exp-2 expired',
    );
    // exp-1's deadline was earlier, so it has expired as well, though nothing read it since.
    const err = await expectCode(() => cas.set('exp-1', bytes('w'), { etag: e1 }), Code.Aborted);
    expect(err.rawMessage).toMatch(/does not exist/);
    await expectCode(() => cas.delete('exp-2', e2), Code.Aborted);
    expect(await cas.set('exp-1', bytes('again'), { createOnly: true })).not.toBe(e1);
    expect(await kv.get('exp-1')).toEqual({ found: true, value: bytes('again') });
  });

  it('puts keys written with ttl_ms on the expiry heap, so the background sweep removes them', async () => {
    const { handle, transact } = await open({ sweep_interval_ms: 20 });
    await transact([tx.set('swept-1', bytes('x'), 200), tx.set('swept-2', bytes('y'), 200)]);
    expect((await handle.health()).details?.keys).toBe('2');
    // health() counts keys without reading them: only the sweep can bring this to 0.
    await waitUntil(async () => (await handle.health()).details?.keys === '0', 'the sweep removed both');
  });

  it('stores private copies of batch and transaction values', async () => {
    const { kv, batch, transact } = await open({});
    const buf = bytes('orig');
    await batch.set([['copy-b', buf]]);
    await transact([tx.set('copy-t', buf)]);
    buf.fill(0);
    expect((await kv.get('copy-b')).value).toEqual(bytes('orig'));
    expect((await kv.get('copy-t')).value).toEqual(bytes('orig'));
  });
});
