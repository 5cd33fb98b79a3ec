import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { expectCode } from '@prism/keyvalue-basic/conformance';
import { GetVersionedRequestSchema, KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan, ScanKeysRequestSchema, ScanRequestSchema } from '@prism/keyvalue-scan';
import { ListBasic, PushRightRequestSchema } from '@prism/list-basic';
import { Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** A cursor as this adapter encodes it (base64url JSON), with any content. */
const forge = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

// Against the run-wide redis-server: forged scan cursors must not reach internal keys or skip key checks.
describe('redis adapter: scan cursors are validated', () => {
  let handle: PluginHandle;
  const namespace = `cursor-${Date.now().toString(36)}`;
  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { url: testServerUrl('redis') },
      { namespace, limits: { maxKeyBytes: 64 } },
    );
    const kv = handle.get(KeyValueBasic)!;
    for (const k of ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'b/1'])
      await kv.set(create(SetRequestSchema, { namespace, key: k, value: bytes(`v-${k}`) }), ctx);
    // Internal keys beside the values: a version tag (etag) and a list.
    await handle
      .get(KeyValueCAS)!
      .getVersioned(create(GetVersionedRequestSchema, { namespace, key: 'a/1' }), ctx);
    await handle
      .get(ListBasic)!
      .pushRight(create(PushRightRequestSchema, { namespace, key: 'a/1', values: [bytes('secret')] }), ctx);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const scan = async (prefix: string, cursor: string, pageSize = 0) => {
    const pages: { keys: string[]; values: string[]; next: string }[] = [];
    for await (const page of handle
      .get(KeyValueScan)!
      .scan(create(ScanRequestSchema, { namespace, prefix, cursor, pageSize }), ctx))
      pages.push({
        keys: (page.items ?? []).map((i) => i.key ?? ''),
        values: (page.items ?? []).map((i) => text(i.value ?? new Uint8Array())),
        next: page.nextCursor ?? '',
      });
    return pages;
  };
  const scanKeys = async (prefix: string, cursor: string) => {
    const out: string[] = [];
    for await (const page of handle
      .get(KeyValueScan)!
      .scanKeys(create(ScanKeysRequestSchema, { namespace, prefix, cursor }), ctx))
      out.push(...(page.keys ?? []));
    return out;
  };

  it('still pages through with genuine cursors', async () => {
    const first = await scan('a/', '', 2);
    expect(first[0]!.keys).toHaveLength(2);
    const resumed = await scan('a/', first[0]!.next, 2);
    const seen = [...first[0]!.keys, ...resumed.flatMap((p) => p.keys)].sort();
    expect(seen).toEqual(['a/1', 'a/2', 'a/3', 'a/4', 'a/5']);
  });

  it('rejects a forged cursor naming internal keys (version tag, list) with INVALID_ARGUMENT', async () => {
    for (const internal of ['\u0000e\u0000a/1', '\u0000l\u0000a/1']) {
      const cursor = forge({ c: '0', d: 1, p: [internal] });
      await expectCode(() => scan('', cursor), Code.InvalidArgument);
      await expectCode(() => scanKeys('', cursor), Code.InvalidArgument);
    }
  });

  it('rejects leftovers outside the prefix, over the key limit, empty, unordered or not strings', async () => {
    for (const p of [['b/1'], [`a/${'x'.repeat(80)}`], [''], ['a/3', 'a/2'], ['a/2', 'a/2'], [7]]) {
      await expectCode(() => scan('a/', forge({ c: '0', d: 1, p })), Code.InvalidArgument);
    }
  });

  it('rejects malformed, non-canonical and inconsistent cursors', async () => {
    const cases = [
      '%%%',
      Buffer.from('not json').toString('base64url'),
      forge([]),
      forge({ c: '18446744073709551616', d: 0, p: [] }), // 2^64
      forge({ c: '-1', d: 0, p: [] }),
      forge({ c: '007', d: 0, p: [] }),
      forge({ c: '12', d: 1, p: [] }), // done, yet a SCAN cursor to continue
      forge({ c: '0', d: 0, p: [] }),
      forge({ c: '0', d: 2, p: [] }),
      forge({ d: 1, c: '0', p: [] }), // other field order
      forge({ c: '0', d: 1, p: [], x: 1 }),
      forge({ c: '0', d: 1, p: Array.from({ length: 10_001 }, (_, i) => `a/${String(i).padStart(6, '0')}`) }),
    ];
    for (const cursor of cases) await expectCode(() => scanKeys('a/', cursor), Code.InvalidArgument);
  });

  it('accepts a well-formed cursor of user keys of the prefix (they are re-checked against Redis)', async () => {
    const pages = await scan('a/', forge({ c: '0', d: 1, p: ['a/2', 'a/9'] }));
    expect(pages.flatMap((p) => p.keys)).toEqual(['a/2']);
    expect(pages.flatMap((p) => p.values)).toEqual(['v-a/2']);
  });
});
