import { createHook } from 'node:async_hooks';
import { create } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { expectCode, kvBasic } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL, waitUntil } from '@prism/keyvalue-ttl/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { Code, instantiatePlugin, PluginConfigError, type PluginHandle } from '@prism/sdk';
import plugin, { MemStore } from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const handles: PluginHandle[] = [];

async function open(config: Record<string, unknown>, namespace = 'unit') {
  const handle = await instantiatePlugin(plugin, config, { namespace });
  handles.push(handle);
  return {
    handle,
    kv: kvBasic(handle.get(KeyValueBasic)!, namespace),
    ttl: kvTTL(handle.get(KeyValueTTL)!, namespace),
    scan: kvScan(handle.get(KeyValueScan)!, namespace),
    list: listBasic(handle.get(ListBasic)!, namespace),
  };
}

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

describe('memstore capacity (max_keys)', () => {
  it('rejects new keys with RESOURCE_EXHAUSTED naming the limit, while updates still succeed', async () => {
    const { kv, ttl, list } = await open({ max_keys: 3 });
    await kv.set('a', bytes('1'));
    await kv.set('b', bytes('1'));
    await list.pushRight('l', bytes('x'));
    const err = await expectCode(() => kv.set('c', bytes('1')), Code.ResourceExhausted);
    expect(err.rawMessage).toMatch(/max_keys is 3/);
    expect(err.rawMessage).toMatch(/namespace "unit"/);
    await expectCode(() => ttl.setWithTTL('c', bytes('1'), 60_000), Code.ResourceExhausted);
    await expectCode(() => list.pushLeft('l2', bytes('1')), Code.ResourceExhausted);
    expect(await kv.exists('c')).toBe(false);
    // Updates of existing keys, TTL changes and pushes to an existing list are not new keys.
    await kv.set('a', bytes('2'));
    await ttl.setWithTTL('b', bytes('2'), 60_000);
    expect(await ttl.expire('a', 60_000)).toBe(true);
    expect(await list.pushRight('l', bytes('y'))).toBe(2);
    expect((await kv.get('a')).value).toEqual(bytes('2'));
    // Freeing a slot (here: the list emptied) admits a new key again.
    await list.popLeft('l');
    await list.popLeft('l');
    await kv.set('c', bytes('1'));
    expect(await kv.exists('c')).toBe(true);
  });

  it('reports DEGRADED at capacity and HEALTHY below, with keys and max_keys details', async () => {
    const { handle, kv, list } = await open({ max_keys: 2 });
    expect(await handle.health()).toEqual({ status: 'healthy', details: { keys: '0', max_keys: '2' } });
    await kv.set('a', bytes('1'));
    await list.pushRight('l', bytes('1'));
    const full = await handle.health();
    expect(full.status).toBe('degraded');
    expect(full.details).toEqual({ keys: '2', max_keys: '2' });
    expect(full.message).toMatch(/max_keys/);
    await kv.delete('a');
    expect(await handle.health()).toEqual({ status: 'healthy', details: { keys: '1', max_keys: '2' } });
  });

  it('reports unlimited capacity without max_keys', async () => {
    const { handle, kv } = await open({});
    await kv.set('a', bytes('1'));
    expect(await handle.health()).toEqual({
      status: 'healthy',
      details: { keys: '1', max_keys: 'unlimited' },
    });
  });

  it('lets an expired key that nobody read free its slot for a new key', async () => {
    // A sweep interval far beyond the test, so only admission itself can remove the expired key.
    const { handle, kv, ttl } = await open({ max_keys: 2, sweep_interval_ms: 3_600_000 });
    await ttl.setWithTTL('old', bytes('1'), 100);
    await ttl.setWithTTL('sentinel', bytes('1'), 100);
    await waitUntil(async () => !(await kv.exists('sentinel')), 'the sentinel expired');
    expect((await handle.health()).details?.keys).toBe('1');
    await kv.set('new-1', bytes('1'));
    await kv.set('new-2', bytes('1'));
    expect(await kv.exists('new-2')).toBe(true);
    expect(await kv.exists('old')).toBe(false);
  });
});

describe('memstore expiry', () => {
  it('removes expired keys in the background without any read', async () => {
    const { handle, ttl, kv } = await open({ sweep_interval_ms: 20 });
    for (let i = 0; i < 5; i++) await ttl.setWithTTL(`t${i}`, bytes('v'), 100);
    await kv.set('forever', bytes('v'));
    expect((await handle.health()).details?.keys).toBe('6');
    // health() neither reads keys nor sweeps: only the timer can make the count drop.
    await waitUntil(
      async () => (await handle.health()).details?.keys === '1',
      'the sweep removed the expired keys',
    );
    expect(await kv.exists('forever')).toBe(true);
  });

  it('sweeps a mass expiry larger than one batch completely', async () => {
    const { handle, ttl } = await open({ sweep_interval_ms: 20 });
    const n = 12_000;
    for (let i = 0; i < n; i++) await ttl.setWithTTL(`mass/${i}`, bytes('v'), 50);
    expect((await handle.health()).details?.keys).toBe(String(n));
    await waitUntil(async () => (await handle.health()).details?.keys === '0', 'all keys were swept', 10_000);
  });
});

describe('memstore lifecycle', () => {
  it('clears every timer it started on close()', async () => {
    const mine = new Set<number>();
    const destroyed = new Set<number>();
    let capturing = true;
    const hook = createHook({
      init(id, type) {
        if (capturing && (type === 'Timeout' || type === 'Immediate')) mine.add(id);
      },
      destroy(id) {
        destroyed.add(id);
      },
    }).enable();
    try {
      const store = new MemStore({ namespace: 'timers', sweepIntervalMs: 10 });
      capturing = false;
      expect(mine.size).toBeGreaterThan(0);
      store.close();
      await waitUntil(
        async () => [...mine].every((id) => destroyed.has(id)),
        'the sweep timer was destroyed',
      );
    } finally {
      hook.disable();
    }
  });

  it('answers UNAVAILABLE after close()', async () => {
    const { handle, kv, list } = await open({});
    await handle.close();
    await expectCode(() => kv.get('a'), Code.Unavailable);
    await expectCode(() => list.length('a'), Code.Unavailable);
  });

  it('rejects bad config with the field named', async () => {
    await expect(instantiatePlugin(plugin, { max_keys: 0 }, { namespace: 'x' })).rejects.toThrow(
      PluginConfigError,
    );
    await expect(instantiatePlugin(plugin, { maxkeys: 5 }, { namespace: 'x' })).rejects.toThrow(/maxkeys/);
    await expect(
      instantiatePlugin(plugin, { sweep_interval_ms: 2 ** 31 }, { namespace: 'x' }),
    ).rejects.toThrow(/sweep_interval_ms/);
  });
});

describe('memstore values are private copies', () => {
  it('is not affected when callers mutate the buffers they passed in', async () => {
    const { kv, ttl, scan, list } = await open({});
    const buf = bytes('original');
    await kv.set('k', buf);
    await ttl.setWithTTL('t', buf, 60_000);
    await list.pushRight('l', buf, buf);
    await list.pushLeft('l', buf);
    buf.fill(0x21);
    expect((await kv.get('k')).value).toEqual(bytes('original'));
    expect((await kv.get('t')).value).toEqual(bytes('original'));
    expect((await scan.scan('')).flatMap((p) => p.items.map((i) => i.value))).toEqual([
      bytes('original'),
      bytes('original'),
    ]);
    for (let i = 0; i < 3; i++)
      expect(await list.popLeft('l')).toEqual({ found: true, value: bytes('original') });
  });

  it('stores a separate copy per write, so values pushed from one buffer stay independent', async () => {
    const { list } = await open({});
    const buf = bytes('a');
    await list.pushRight('l', buf, buf);
    const first = await list.popLeft('l');
    first.value.fill(0x7a);
    expect(await list.popLeft('l')).toEqual({ found: true, value: bytes('a') });
  });

  it('does not retain a larger buffer that a value is a view of', async () => {
    const { kv } = await open({});
    const big = new Uint8Array(1024).fill(7);
    await kv.set('view', big.subarray(10, 14));
    const got = (await kv.get('view')).value;
    expect(got).toEqual(Uint8Array.of(7, 7, 7, 7));
    expect(got.buffer.byteLength).toBe(4);
  });
});

describe('memstore scan', () => {
  it('pages 100k keys in key order with opaque cursors', async () => {
    const bulk = await open({}, 'bulk');
    const impl = bulk.handle.get(KeyValueBasic)!;
    const ctx = { signal: new AbortController().signal };
    const n = 100_000;
    // Unary calls answer synchronously, so the bulk load needs no await per key.
    for (let i = n - 1; i >= 0; i--) {
      const key = `k${String(i).padStart(6, '0')}`;
      impl.set(create(SetRequestSchema, { namespace: 'bulk', key, value: bytes('v') }), ctx);
    }
    const pages = await bulk.scan.scanKeys('k', { pageSize: 5000 });
    expect(pages).toHaveLength(n / 5000);
    const keys = pages.flatMap((p) => p.items);
    expect(keys).toHaveLength(n);
    expect(keys).toEqual([...keys].sort());
    for (const p of pages.slice(0, -1)) expect(p.nextCursor).toMatch(/^k[A-Za-z0-9_-]+$/);
    expect(await bulk.scan.count('k0999')).toBe(100);
    expect(await bulk.scan.count('')).toBe(n);
  });

  it('keeps its key index in step with writes and deletes after the first scan', async () => {
    const { kv, scan } = await open({});
    await kv.set('b', bytes('1'));
    expect(await scan.keys('')).toEqual(['b']);
    await kv.set('a', bytes('1'));
    await kv.set('c', bytes('1'));
    expect(await scan.keys('')).toEqual(['a', 'b', 'c']);
    await kv.delete('b');
    await kv.set('bb', bytes('1'));
    expect(await scan.keys('', { pageSize: 1 })).toEqual(['a', 'bb', 'c']);
  });
});
