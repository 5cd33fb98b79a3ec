import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { expectCode } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import plugin from './index.js';

// Plain request objects (this package has no protobuf dependency); the adapter reads the fields only.
const ctx = { signal: new AbortController().signal };
/** A cursor as this adapter encodes it (it resumes strictly after `key`), with any key. */
const forge = (key: string) => `${Buffer.from(key, 'utf8').toString('base64url')}`;

// Scan cursors come back from clients: a forged one must be INVALID_ARGUMENT, never a resume point
// outside the scan (another prefix) or a key no request could carry (NUL, empty, invalid UTF-8).
describe('sqlite adapter: scan cursors are validated', () => {
  let handle: PluginHandle;
  const namespace = `cursor-${Date.now().toString(36)}`;
  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { path: ':memory:' },
      { namespace, limits: { maxKeyBytes: 16, maxValueBytes: 1024 } },
    );
    for (const k of ['a/1', 'a/2', 'a/3', 'b/1'])
      await handle.get(KeyValueBasic)!.set({ namespace, key: k, value: new Uint8Array([1]) } as never, ctx);
  }, 60_000);
  afterAll(async () => {
    await handle?.close();
  });

  const scanKeys = async (prefix: string, cursor: string, pageSize = 0) => {
    const pages: { keys: string[]; next: string }[] = [];
    for await (const page of handle
      .get(KeyValueScan)!
      .scanKeys({ namespace, prefix, cursor, pageSize, limit: 0 } as never, ctx))
      pages.push({ keys: page.keys ?? [], next: page.nextCursor ?? '' });
    return pages;
  };

  it('resumes from genuine and well-formed cursors of the prefix', async () => {
    const [first] = await scanKeys('a/', '', 1);
    expect(first!.keys).toEqual(['a/1']);
    expect((await scanKeys('a/', first!.next)).flatMap((p) => p.keys)).toEqual(['a/2', 'a/3']);
    expect((await scanKeys('a/', forge('a/2'))).flatMap((p) => p.keys)).toEqual(['a/3']);
  });

  it('rejects a cursor naming a key longer than the namespace allows (max_key_bytes 16)', async () => {
    await expectCode(() => scanKeys('a/', forge(`a/${'x'.repeat(15)}`)), Code.InvalidArgument);
    expect((await scanKeys('a/', forge('a/2'))).flatMap((p) => p.keys)).toEqual(['a/3']);
  });

  it('rejects a cursor outside the prefix, with NUL, empty, or not canonical', async () => {
    for (const cursor of [forge('b/0'), forge('a'), forge('a/\u0000x'), '_w', `${forge('a/2')}=`, '%%'])
      await expectCode(() => scanKeys('a/', cursor), Code.InvalidArgument);
    const [first] = await scanKeys('a/', '', 1);
    await expectCode(() => scanKeys('b/', first!.next), Code.InvalidArgument);
  });
});
