import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { bytes, setBasic, sortedText } from '@prism/set-basic/conformance';
import { SetOperations } from '@prism/set-operations';
import { setOperations } from '@prism/set-operations/conformance';
import { testServerUrl } from '@prism/testing';
import { createClient, RESP_TYPES } from 'redis';
import plugin from './index.js';

/** An independent client that looks at what the adapter really wrote. */
function rawClient() {
  return createClient({ url: testServerUrl('redis') }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

describe('redis adapter: sets as they land in Redis', () => {
  const raw = rawClient();
  const handles: PluginHandle[] = [];
  const open = async (namespace: string) => {
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace });
    handles.push(h);
    return h;
  };
  const rawMembers = async (key: string) =>
    ((await raw.sMembers(key)) as unknown as Buffer[]).map((b) => b.toString('utf8')).sort();
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await raw.close();
  });

  it('stores a set as a native Redis set at "<prefix>\\0set\\0<key>", deleted when emptied', async () => {
    const ns = uniqueNamespace('rawset');
    const set = setBasic((await open(ns)).get(SetBasic)!, ns);
    const key = `${ns}:\u0000set\u0000tags`;
    await set.add('tags', bytes('a'), bytes('b'));
    expect(await raw.type(key)).toBe('set');
    expect(await rawMembers(key)).toEqual(['a', 'b']);
    await raw.sAdd(key, 'written-outside');
    expect(await set.isMember('tags', bytes('written-outside'))).toBe(true);
    await set.remove('tags', bytes('a'), bytes('b'), bytes('written-outside'));
    expect(await raw.exists(key)).toBe(0);
  });

  it('keeps sets out of keyvalue scans and apart from a key/value pair of the same name', async () => {
    const ns = uniqueNamespace('rawsetscan');
    const h = await open(ns);
    await setBasic(h.get(SetBasic)!, ns).add('k', bytes('x'));
    await raw.set(`${ns}:k`, 'plain');
    expect(await kvScan(h.get(KeyValueScan)!, ns).keys('')).toEqual(['k']);
    expect(await raw.type(`${ns}:k`)).toBe('string');
  });

  it('writes Store results under the namespace prefix only', async () => {
    const ns = uniqueNamespace('rawstore');
    const h = await open(ns);
    const set = setBasic(h.get(SetBasic)!, ns);
    await set.add('a', bytes('1'), bytes('2'));
    await raw.sAdd('dest', 'outside');
    expect(await setOperations(h.get(SetOperations)!, ns).store('union', 'dest', ['a'])).toBe(2);
    expect(await rawMembers(`${ns}:\u0000set\u0000dest`)).toEqual(['1', '2']);
    expect(await rawMembers('dest')).toEqual(['outside']);
    expect(sortedText(await set.members('dest'))).toEqual(['1', '2']);
    await raw.del('dest');
  });

  it('streams a large set through several SSCAN rounds without duplicates', async () => {
    const ns = uniqueNamespace('rawsscan');
    const set = setBasic((await open(ns)).get(SetBasic)!, ns);
    const all = Array.from({ length: 5000 }, (_, i) => `member-${i}`);
    for (let i = 0; i < all.length; i += 1000) await set.add('big', ...all.slice(i, i + 1000).map(bytes));
    expect(await raw.sCard(`${ns}:\u0000set\u0000big`)).toBe(5000);
    const batches = await set.batches('big', 50);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(50);
    expect(sortedText(batches.flat())).toEqual([...all].sort());
  });
});
