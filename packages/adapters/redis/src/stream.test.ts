// stream_retention's effect in Redis itself, checked with an independent node-redis client: the policy hash,
// exact XTRIM on append (XLEN, first entry id) and entries trimmed by TrimStream.
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { utf8 } from '@prism/pubsub-basic/conformance';
import { Code, ConnectError, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import {
  RetentionPolicySchema,
  SetRetentionRequestSchema,
  StreamRetention,
  TrimStreamRequestSchema,
} from '@prism/stream-retention';
import { testServerUrl } from '@prism/testing';
import { createClient } from 'redis';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

describe('redis stream_retention in Redis', () => {
  let handle: PluginHandle;
  const redis = createClient({ url: testServerUrl('redis') });
  const namespace = `ret-${Date.now().toString(36)}`;
  const key = (stream: string) => `${namespace}:\u0000s\u0000${stream}`;

  beforeAll(async () => {
    await redis.connect();
    handle = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace });
  });
  afterAll(async () => {
    await handle?.close();
    await redis.close();
  });

  it('stores the policy as a hash and trims the Redis stream exactly on every append', async () => {
    const retention = handle.get(StreamRetention)!;
    const s = streamClient(handle.get(StreamBasic)!, namespace);
    await retention.setRetention(
      create(SetRetentionRequestSchema, {
        namespace,
        stream: 'capped',
        policy: create(RetentionPolicySchema, { maxRecords: 3n, maxAgeMs: 3_600_000n }),
      }),
      ctx,
    );
    expect(await redis.hGetAll(`${namespace}:\u0000sr\u0000capped`)).toEqual({ age: '3600000', count: '3' });
    const a = [];
    for (let i = 0; i < 7; i++) a.push(await s.append('capped', utf8(`c${i}`)));
    expect(await redis.xLen(key('capped'))).toBe(3);
    const entries = await redis.xRange(key('capped'), '-', '+');
    expect(entries!.map((e) => e.id)).toEqual(a.slice(4).map((x) => x.id));
    const trimmed = await retention.trimStream(
      create(TrimStreamRequestSchema, { namespace, stream: 'capped', keepLast: 1n }),
      ctx,
    );
    expect(trimmed.removed).toBe(2n);
    expect(await redis.xLen(key('capped'))).toBe(1);
    expect((await redis.xRange(key('capped'), '-', '+'))![0]!.id).toBe(a[6]!.id);
  });

  it('rejects max_bytes (not expressible in Redis) and leaves the stream alone', async () => {
    const retention = handle.get(StreamRetention)!;
    const err = await Promise.resolve(
      retention.setRetention(
        create(SetRetentionRequestSchema, {
          namespace,
          stream: 'bytes',
          policy: create(RetentionPolicySchema, { maxBytes: 1024n }),
        }),
        ctx,
      ),
    ).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/max_bytes/);
    expect(await redis.exists(`${namespace}:\u0000sr\u0000bytes`)).toBe(0);
  });
});
