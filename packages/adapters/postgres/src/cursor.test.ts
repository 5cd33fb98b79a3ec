import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic, SetRequestSchema } from '@prism/keyvalue-basic';
import { expectCode } from '@prism/keyvalue-basic/conformance';
import { KeyValueScan, ScanKeysRequestSchema } from '@prism/keyvalue-scan';
import { Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { createDatabase, testServerUrl } from '@prism/testing';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };
/** A cursor as this adapter encodes it (it resumes strictly after `key`), with any key. */
const forge = (key: string) => `${Buffer.from(key, 'utf8').toString('base64url')}`;

// Scan cursors come back from clients: a forged one must be INVALID_ARGUMENT, never a resume point
// outside the scan (another prefix) or a key no request could carry (NUL, empty, invalid UTF-8).
describe('postgres adapter: scan cursors are validated', () => {
  let handle: PluginHandle;
  const namespace = `cursor-${Date.now().toString(36)}`;
  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { url: await createDatabase(testServerUrl('postgres')), pool_size: 2 },
      { namespace, limits: { maxKeyBytes: 16, maxValueBytes: 1024 } },
    );
    for (const k of ['a/1', 'a/2', 'a/3', 'b/1'])
      await handle
        .get(KeyValueBasic)!
        .set(create(SetRequestSchema, { namespace, key: k, value: new Uint8Array([1]) }), ctx);
  }, 60_000);
  afterAll(async () => {
    await handle?.close();
  });

  const scanKeys = async (prefix: string, cursor: string, pageSize = 0) => {
    const pages: { keys: string[]; next: string }[] = [];
    for await (const page of handle
      .get(KeyValueScan)!
      .scanKeys(create(ScanKeysRequestSchema, { namespace, prefix, cursor, pageSize }), ctx))
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
