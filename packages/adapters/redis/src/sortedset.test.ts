import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { basicOf } from '@prism/sortedset-basic/conformance';
import { Aggregate, SortedSetOperations } from '@prism/sortedset-operations';
import { sortedSetOperations } from '@prism/sortedset-operations/conformance';
import { SortedSetRange } from '@prism/sortedset-range';
import { sortedSetRange } from '@prism/sortedset-range/conformance';
import { testServerUrl } from '@prism/testing';
import { createClient, RESP_TYPES } from 'redis';
import plugin from './index.js';
import { fmtScore, parseScore } from './sortedset.js';

/** An independent client that looks at what the adapter really wrote. */
const rawClient = () =>
  createClient({ url: testServerUrl('redis') }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

describe('redis sorted sets: data as it lands in Redis', () => {
  const raw = rawClient();
  const handles: PluginHandle[] = [];
  const open = async (namespace: string) => {
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace });
    handles.push(h);
    return h;
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await raw.close();
  });

  it('stores a native Redis sorted set under "<namespace>:\\0zset\\0<key>" with exact scores', async () => {
    const ns = uniqueNamespace('rawz');
    const z = basicOf(await open(ns), 'redis', ns);
    await z.add('board', [
      [Uint8Array.of(0, 0xff), 1.5],
      ['b', Number.NEGATIVE_INFINITY],
      ['c', 0.1 + 0.2],
    ]);
    const key = `${ns}:\u0000zset\u0000board`;
    expect(await raw.type(key)).toBe('zset');
    const stored = await raw.zRangeWithScores(key, 0, -1);
    expect(stored.map((e) => [Buffer.from(e.value).toString('hex'), e.score])).toEqual([
      ['62', Number.NEGATIVE_INFINITY],
      ['63', 0.30000000000000004],
      ['00ff', 1.5],
    ]);
    // Written by another client: read back through Prism, and an emptied set disappears from Redis.
    await raw.zAdd(key, { value: 'outside', score: 7 });
    expect(await z.score('board', 'outside')).toBe(7);
    await z.remove('board', Uint8Array.of(0, 0xff), 'b', 'c', 'outside');
    expect(await raw.exists(key)).toBe(0);
    // The user key itself (a key/value pair) is never touched.
    expect(await raw.exists(`${ns}:board`)).toBe(0);
  });

  it('keeps operation sources and destinations inside the namespace', async () => {
    const ns = uniqueNamespace('rawzop');
    const h = await open(ns);
    const z = basicOf(h, 'redis', ns);
    const o = sortedSetOperations(h.get(SortedSetOperations)!, ns);
    // A same-named sorted set outside the namespace is not a source.
    await raw.zAdd('src', { value: 'foreign', score: 1 });
    await z.add('src', [['mine', 2]]);
    expect(await o.unionStore('dst', ['src'], { aggregate: Aggregate.MAX })).toBe(1);
    expect(await raw.zScore(`${ns}:\u0000zset\u0000dst`, 'mine')).toBe(2);
    expect(await raw.exists('dst')).toBe(0);
    await raw.del('src');
  });

  it('asks Redis for one entry more than a page, not the whole range', async () => {
    const ns = uniqueNamespace('rawzpage');
    const h = await open(ns);
    const z = basicOf(h, 'redis', ns);
    await z.add(
      'k',
      Array.from({ length: 50 }, (_, i): [string, number] => [`m${i}`, i]),
    );
    const r = sortedSetRange(h.get(SortedSetRange)!, ns);
    const page = await r.byScore('k', 10, undefined, { limit: 5, offset: 2 });
    expect(page.entries.map(([m]) => m)).toEqual(['m12', 'm13', 'm14', 'm15', 'm16']);
    expect(page.more).toBe(true);
  });

  it('formats and parses Redis doubles', () => {
    expect(fmtScore(Number.POSITIVE_INFINITY)).toBe('+inf');
    expect(fmtScore(Number.NEGATIVE_INFINITY)).toBe('-inf');
    expect(fmtScore(5e-324)).toBe('5e-324');
    expect(parseScore(Buffer.from('inf'))).toBe(Number.POSITIVE_INFINITY);
    expect(parseScore(Buffer.from('-inf'))).toBe(Number.NEGATIVE_INFINITY);
    expect(parseScore(Buffer.from('4.9406564584124654e-324'))).toBe(5e-324);
    expect(parseScore(2.5)).toBe(2.5);
  });
});
