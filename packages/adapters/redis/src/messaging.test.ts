// Redis messaging beyond the conformance suites: effects checked in Redis itself with an independent
// client (stream entries, trimming, the group's pending list, channel names), and slow-subscriber drops.

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic, SubscribeRequestSchema } from '@prism/pubsub-basic';
import { pollUntil, uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { type CallContext, instantiatePlugin, type PluginHandle, type PluginMetrics } from '@prism/sdk';
import { AppendRequestSchema, StreamBasic, TrimRequestSchema } from '@prism/stream-basic';
import {
  AckRequestSchema,
  GroupStart,
  ReadGroupRequestSchema,
  StreamConsumerGroups,
} from '@prism/stream-consumer-groups';
import { testServerUrl } from '@prism/testing';
import { createClient } from 'redis';
import plugin from './index.js';
import { idToOffset, offsetToId } from './streams.js';

const ctx: CallContext = { signal: new AbortController().signal };

/** A metrics sink that keeps counters, to observe drops. */
function countingMetrics(): PluginMetrics & { counters: Map<string, number> } {
  const counters = new Map<string, number>();
  return {
    counters,
    increment(name, _labels, value = 1) {
      counters.set(name, (counters.get(name) ?? 0) + value);
    },
    observe() {},
    gauge() {},
  };
}

describe('redis messaging', () => {
  const namespace = uniqueNamespace('redismsg');
  const metrics = countingMetrics();
  let handle: PluginHandle;
  let raw: ReturnType<typeof createClient>;

  beforeAll(async () => {
    handle = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace, metrics });
    raw = createClient({ url: testServerUrl('redis') });
    await raw.connect();
  });
  afterAll(async () => {
    await handle?.close();
    await raw?.close();
  });

  it('maps entry ids to offsets and back', () => {
    expect(idToOffset('1700000000000-5')).toBe((1700000000000n << 20n) | 5n);
    expect(offsetToId(idToOffset('1700000000000-5'))).toBe('1700000000000-5');
    expect(idToOffset('1-0')).toBeGreaterThan(idToOffset('0-1048575'));
  });

  it('appends to a Redis stream under the namespace prefix and trims it with XTRIM', async () => {
    const s = handle.get(StreamBasic)!;
    const key = `${namespace}:\u0000s\u0000orders`;
    const a = await s.append(
      create(AppendRequestSchema, { namespace, stream: 'orders', payload: utf8('a') }),
      ctx,
    );
    const b = await s.append(
      create(AppendRequestSchema, { namespace, stream: 'orders', payload: utf8('b'), metadata: { k: 'v' } }),
      ctx,
    );
    const entries = (await raw.xRange(key, '-', '+')) ?? [];
    expect(entries.map((e) => e.id)).toEqual([a.messageId, b.messageId]);
    expect(entries[1]?.message).toEqual({ p: 'b', m: '{"k":"v"}' });
    expect(offsetToId(BigInt(b.offset ?? 0n))).toBe(b.messageId);
    await s.trim(
      create(TrimRequestSchema, { namespace, stream: 'orders', beforeOffset: BigInt(b.offset ?? 0n) }),
      ctx,
    );
    expect(((await raw.xRange(key, '-', '+')) ?? []).map((e) => e.id)).toEqual([b.messageId]);
  });

  it('keeps a group record in the pending list until it is acked', async () => {
    const s = handle.get(StreamBasic)!;
    const g = handle.get(StreamConsumerGroups)!;
    const key = `${namespace}:\u0000s\u0000jobs`;
    await s.append(create(AppendRequestSchema, { namespace, stream: 'jobs', payload: utf8('j') }), ctx);
    const abort = new AbortController();
    const it = g
      .readGroup(
        create(ReadGroupRequestSchema, {
          namespace,
          stream: 'jobs',
          group: 'workers',
          consumer: 'w1',
          start: GroupStart.EARLIEST,
        }),
        { signal: abort.signal },
      )
      [Symbol.asyncIterator]();
    const first = (await it.next()).value as { ackId: string };
    expect((await raw.xPending(key, 'workers')).pending).toBe(1);
    await g.ack(
      create(AckRequestSchema, { namespace, stream: 'jobs', group: 'workers', ackIds: [first.ackId] }),
      ctx,
    );
    expect((await raw.xPending(key, 'workers')).pending).toBe(0);
    abort.abort();
    await it.return?.();
  });

  it('drops and counts messages a slow subscriber does not read, delivering the rest in order', async () => {
    const ps = handle.get(PubSubBasic)!;
    const abort = new AbortController();
    const sub = ps
      .subscribe(create(SubscribeRequestSchema, { namespace, topic: 'firehose' }), { signal: abort.signal })
      [Symbol.asyncIterator]();
    expect(((await sub.next()).value as { event: { case: string } }).event.case).toBe('subscribed');
    const channels = await raw.pubSubChannels(`${namespace}:*`);
    expect(channels).toContain(`${namespace}:\u0000t\u0000firehose`);
    // The client reads nothing while 1100 messages arrive: the buffer keeps 1024 and drops the rest.
    for (let i = 0; i < 1100; i++)
      await ps.publish(
        create(PublishRequestSchema, { namespace, topic: 'firehose', payload: utf8(String(i)) }),
        ctx,
      );
    await pollUntil(
      '76 drops to be counted',
      () => (metrics.counters.get('messages_dropped_total') ?? 0) >= 76,
    );
    expect(metrics.counters.get('messages_dropped_total')).toBe(76);
    const firstMsg = (await sub.next()).value as { event: { value: { payload: Uint8Array } } };
    expect(new TextDecoder().decode(firstMsg.event.value.payload)).toBe('0');
    abort.abort();
    await sub.return?.();
    await pollUntil(
      'the channel to be unsubscribed',
      async () =>
        !(await raw.pubSubChannels(`${namespace}:*`)).includes(`${namespace}:\u0000t\u0000firehose`),
    );
  });
});
