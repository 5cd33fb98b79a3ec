import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { ListBasic } from '@prism/list-basic';
import { listBasic } from '@prism/list-basic/conformance';
import { ListBlocking } from '@prism/list-blocking';
import { listBlocking } from '@prism/list-blocking/conformance';
import { ListIndexing } from '@prism/list-indexing';
import { listIndexing } from '@prism/list-indexing/conformance';
import { ListRange } from '@prism/list-range';
import { listRange } from '@prism/list-range/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import { createClient, RESP_TYPES } from 'redis';
import plugin from './index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redis adapter: lists as they land in Redis', () => {
  const raw = createClient({ url: testServerUrl('redis') }).withTypeMapping({
    [RESP_TYPES.BLOB_STRING]: Buffer,
  });
  const handles: PluginHandle[] = [];
  const open = async () => {
    const ns = uniqueNamespace('rawlist');
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace: ns });
    handles.push(h);
    return {
      ns,
      redisKey: (key: string) => `${ns}:\u0000l\u0000${key}`,
      list: listBasic(h.get(ListBasic)!, ns),
      idx: listIndexing(h.get(ListIndexing)!, ns),
      range: listRange(h.get(ListRange)!, ns),
      bl: listBlocking(h.get(ListBlocking)!, ns),
    };
  };
  /** Ids of the clients blocked in BLPOP/BRPOP on this run's Redis. */
  const blockedIds = async () => {
    const list = String(await raw.sendCommand(['CLIENT', 'LIST']));
    return new Set(
      list
        .split('\n')
        .filter((l) => / flags=\S*b/.test(l) && /cmd=(blpop|brpop)/.test(l))
        .map((l) => /id=(\d+)/.exec(l)?.[1]),
    );
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await raw.close();
  });

  it('edits the native Redis list that list_basic pushes to (LSET, LINSERT, LREM, LTRIM)', async () => {
    const { list, idx, range, redisKey } = await open();
    await list.pushRight('l', bytes('a'), bytes('b'), bytes('c'), bytes('b'));
    await idx.setIndex('l', 0, bytes('A'));
    await idx.insert('l', 'after', bytes('c'), Uint8Array.of(0, 0xff));
    expect(await idx.remove('l', bytes('b'), -1)).toBe(1);
    expect(await raw.lRange(redisKey('l'), 0, -1)).toEqual([
      Buffer.from('A'),
      Buffer.from('b'),
      Buffer.from('c'),
      Buffer.from([0, 0xff]),
    ]);
    expect(await range.trim('l', 1, 2)).toBe(2);
    expect(await raw.lRange(redisKey('l'), 0, -1)).toEqual([Buffer.from('b'), Buffer.from('c')]);
    expect(await range.trim('l', 5, 9)).toBe(0);
    expect(await raw.exists(redisKey('l'))).toBe(0);
  });

  it('reads lists written by other Redis clients', async () => {
    const { idx, range, redisKey } = await open();
    await raw.rPush(redisKey('outside'), ['x', 'y', 'z']);
    expect((await idx.index('outside', -1)).value).toEqual(bytes('z'));
    expect((await range.range('outside', 1, -1)).values).toEqual([bytes('y'), bytes('z')]);
  });

  it('blocks in Redis on a dedicated connection and releases it on cancellation', async () => {
    const { list, bl, redisKey } = await open();
    const ac = new AbortController();
    const before = await blockedIds();
    const waiters = [0, 1, 2].map((i) => bl.popLeft([`w${i}`], 10_000, { signal: ac.signal }));
    await sleep(300);
    // Ids new since `before`: this test's waiters (other test files on this server block on other keys).
    const mine = [...(await blockedIds())].filter((id) => !before.has(id));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    // A value pushed by another client wakes the waiter, as with any BLPOP.
    await raw.rPush(redisKey('w0'), 'from-outside');
    expect(await waiters[0]).toEqual({ found: true, key: 'w0', value: bytes('from-outside') });
    ac.abort();
    await Promise.allSettled(waiters);
    await sleep(100);
    const still = await blockedIds();
    expect(mine.filter((id) => still.has(id))).toEqual([]);
    await list.pushRight('w1', bytes('kept'));
    expect(await raw.lLen(redisKey('w1'))).toBe(1);
  });

  it('maps a call deadline to the BLPOP timeout (seconds with decimals)', async () => {
    const { bl } = await open();
    const t0 = Date.now();
    expect((await bl.popRight(['never'], 0, { deadline: Date.now() + 250 })).found).toBe(false);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(1500);
  });
});
