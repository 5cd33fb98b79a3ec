import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { kvBasic, uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { kvCAS } from '@prism/keyvalue-cas/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { kvScan } from '@prism/keyvalue-scan/conformance';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { kvTTL } from '@prism/keyvalue-ttl/conformance';
import { ListBasic, PushRightRequestSchema } from '@prism/list-basic';
import { instantiatePlugin, type PluginHandle, parsePluginConfig } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import { createClient, RESP_TYPES } from 'redis';
import plugin, { escapeGlob } from './index.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);

/** An independent client that looks at what the adapter really wrote. */
function rawClient() {
  return createClient({ url: testServerUrl('redis') }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
}

describe('redis adapter: data as it lands in Redis', () => {
  const raw = rawClient();
  const handles: PluginHandle[] = [];
  const open = async (namespace: string, extra: Record<string, unknown> = {}) => {
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis'), ...extra }, { namespace });
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

  it('stores a value as a plain Redis string under "<namespace>:"', async () => {
    const ns = uniqueNamespace('raw');
    const kv = kvBasic((await open(ns)).get(KeyValueBasic)!, ns);
    await kv.set('user:42', Uint8Array.of(0, 1, 0xff));
    expect(await raw.get(`${ns}:user:42`)).toEqual(Buffer.from([0, 1, 0xff]));
    expect(await raw.type(`${ns}:user:42`)).toBe('string');
    await raw.set(`${ns}:written-outside`, 'hello');
    expect(await kv.get('written-outside')).toEqual({ found: true, value: bytes('hello') });
    expect(await kv.delete('user:42')).toBe(true);
    expect(await raw.exists(`${ns}:user:42`)).toBe(0);
  });

  it('uses native Redis expiry for TTLs', async () => {
    const ns = uniqueNamespace('rawttl');
    const ttl = kvTTL((await open(ns)).get(KeyValueTTL)!, ns);
    await ttl.setWithTTL('session', bytes('s'), 60_000);
    const pttl = await raw.pTTL(`${ns}:session`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('keeps etags and lists in internal keys that scans and counts never show', async () => {
    const ns = uniqueNamespace('rawint');
    const h = await open(ns);
    const kv = kvBasic(h.get(KeyValueBasic)!, ns);
    const cas = kvCAS(h.get(KeyValueCAS)!, ns);
    await kv.set('k', bytes('v'));
    const { etag } = await cas.get('k');
    expect(await raw.get(`${ns}:\u0000e\u0000k`)).toEqual(Buffer.from(etag));
    await h
      .get(ListBasic)!
      .pushRight(create(PushRightRequestSchema, { namespace: ns, key: 'k', values: [bytes('x')] }), ctx);
    expect(await raw.type(`${ns}:\u0000l\u0000k`)).toBe('list');
    const scan = kvScan(h.get(KeyValueScan)!, ns);
    expect(await scan.keys('')).toEqual(['k']);
    expect(await scan.count('')).toBe(1);
    // Any write drops the etag key, so the next read mints a new etag.
    await kv.set('k', bytes('v'));
    expect(await raw.exists(`${ns}:\u0000e\u0000k`)).toBe(0);
    expect((await cas.get('k')).etag).not.toBe(etag);
  });

  it('gives a minted etag the remaining TTL of its key, so it does not outlive it', async () => {
    const ns = uniqueNamespace('rawetagttl');
    const h = await open(ns);
    await kvTTL(h.get(KeyValueTTL)!, ns).setWithTTL('t', bytes('v'), 60_000);
    await kvCAS(h.get(KeyValueCAS)!, ns).get('t');
    const pttl = await raw.pTTL(`${ns}:\u0000e\u0000t`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('isolates a namespace from another whose name extends it ("a" vs "a-b"), in scan and count too', async () => {
    const a = uniqueNamespace('iso');
    const ab = `${a}-b`;
    const [ha, hab] = await Promise.all([open(a), open(ab)]);
    const kvA = kvBasic(ha.get(KeyValueBasic)!, a);
    const kvAB = kvBasic(hab.get(KeyValueBasic)!, ab);
    await kvA.set('x', bytes('a'));
    await kvAB.set('x', bytes('ab'));
    await kvAB.set('only-ab', bytes('ab'));
    expect(await kvA.get('only-ab')).toEqual({ found: false, value: new Uint8Array() });
    expect(await kvScan(ha.get(KeyValueScan)!, a).keys('')).toEqual(['x']);
    expect(await kvScan(ha.get(KeyValueScan)!, a).count('')).toBe(1);
    expect((await kvScan(hab.get(KeyValueScan)!, ab).keys('')).sort()).toEqual(['only-ab', 'x']);
    expect(await raw.get(`${a}:x`)).toEqual(Buffer.from('a'));
    expect(await raw.get(`${ab}:x`)).toEqual(Buffer.from('ab'));
  });

  it('escapes glob characters of a configured key_prefix when scanning', async () => {
    const tag = uniqueNamespace('glob');
    const globby = await open('glob-1', { key_prefix: `${tag}[ab]*?\\:` });
    const plain = await open('glob-2', { key_prefix: `${tag}a-plain:` });
    await kvBasic(globby.get(KeyValueBasic)!, 'glob-1').set('mine', bytes('1'));
    await kvBasic(plain.get(KeyValueBasic)!, 'glob-2').set('theirs', bytes('2'));
    expect(await raw.get(`${tag}[ab]*?\\:mine`)).toEqual(Buffer.from('1'));
    expect(await kvScan(globby.get(KeyValueScan)!, 'glob-1').keys('')).toEqual(['mine']);
    expect(await kvScan(globby.get(KeyValueScan)!, 'glob-1').count('')).toBe(1);
  });

  it('records command latency, errors and the connection state as metrics', async () => {
    const seen: string[] = [];
    const metrics = {
      increment: (name: string, labels?: Record<string, string>) =>
        seen.push(`inc ${name} ${labels?.code ?? ''}`),
      observe: (name: string, _v: number, labels?: Record<string, string>) =>
        seen.push(`obs ${name} ${labels?.command}`),
      gauge: (name: string, v: number) => seen.push(`gauge ${name} ${v}`),
    };
    const ns = uniqueNamespace('metrics');
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace: ns, metrics });
    handles.push(h);
    await kvBasic(h.get(KeyValueBasic)!, ns).get('k');
    expect(seen).toContain('gauge redis_connected 1');
    expect(seen).toContain('obs redis_command_seconds GET');
  });

  it('reports health with the PING latency', async () => {
    const h = await open(uniqueNamespace('health'));
    const report = await h.health();
    expect(report.status).toBe('healthy');
    expect(Number(report.details?.latency_ms)).toBeGreaterThanOrEqual(0);
  });
});

describe('redis adapter: config', () => {
  it('applies defaults and rejects bad or unknown fields', () => {
    const cfg = parsePluginConfig(plugin, { url: 'redis://127.0.0.1:6379' });
    expect(cfg).toMatchObject({ connect_timeout_ms: 5000, command_timeout_ms: 5000 });
    expect(() => parsePluginConfig(plugin, { url: 'http://x' })).toThrow(
      /url: must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => parsePluginConfig(plugin, { url: 'redis://x', key_prefix: 'a\u0000b' })).toThrow(
      /key_prefix/,
    );
    expect(() => parsePluginConfig(plugin, { url: 'redis://x', pasword: 'typo' })).toThrow(/pasword/);
    expect(() => parsePluginConfig(plugin, { command_timeout_ms: 0 })).toThrow(/command_timeout_ms/);
  });

  it('escapes every glob metacharacter', () => {
    expect(escapeGlob('a*b?c[d]e\\f^g')).toBe('a\\*b\\?c\\[d\\]e\\\\f^g');
  });
});
