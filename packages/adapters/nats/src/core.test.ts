// Core NATS pub/sub beyond the conformance suites: the subject a topic maps to (seen by an independent
// client), and the bounded buffer of a slow subscriber (drops counted, the rest delivered in order).

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic, SubscribeRequestSchema } from '@prism/pubsub-basic';
import { pollUntil, uniqueNamespace, utf8 } from '@prism/pubsub-basic/conformance';
import { type CallContext, instantiatePlugin, type PluginHandle, type PluginMetrics } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import { connect, type NatsConnection } from 'nats';
import plugin from './index.js';

const ctx: CallContext = { signal: new AbortController().signal };

describe('nats core pub/sub', () => {
  const namespace = uniqueNamespace('natscore');
  const counters = new Map<string, number>();
  const metrics: PluginMetrics = {
    increment: (name, _labels, value = 1) => counters.set(name, (counters.get(name) ?? 0) + value),
    observe() {},
    gauge() {},
  };
  let handle: PluginHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { servers: [testServerUrl('nats')], subscription_buffer: 10 },
      { namespace, metrics },
    );
    nc = await connect({ servers: testServerUrl('nats') });
  });
  afterAll(async () => {
    await handle?.close();
    await nc?.close();
  });

  const publish = (topic: string, text: string, metadata: Record<string, string> = {}) =>
    handle
      .get(PubSubBasic)!
      .publish(create(PublishRequestSchema, { namespace, topic, payload: utf8(text), metadata }), ctx);

  it('publishes on prism.<namespace>.t.<topic> with metadata as headers', async () => {
    const sub = nc.subscribe(`prism.${namespace}.t.orders.eu`, { max: 1 });
    await nc.flush();
    await publish('orders.eu', 'hi', { trace: ' padded ' });
    for await (const m of sub) {
      expect(new TextDecoder().decode(m.data)).toBe('hi');
      expect(m.headers?.get('prism-id')).toBeTruthy();
      expect(m.headers?.get('prism-enc')).toBe('trace');
    }
  });

  it('drops and counts what a slow subscriber does not read, delivering the rest in order', async () => {
    const abort = new AbortController();
    const sub = handle
      .get(PubSubBasic)!
      .subscribe(create(SubscribeRequestSchema, { namespace, topic: 'firehose' }), { signal: abort.signal })
      [Symbol.asyncIterator]();
    expect(((await sub.next()).value as { event: { case: string } }).event.case).toBe('subscribed');
    for (let i = 0; i < 50; i++) await publish('firehose', String(i));
    await pollUntil('40 drops to be counted', () => (counters.get('messages_dropped_total') ?? 0) >= 40);
    expect(counters.get('messages_dropped_total')).toBe(40);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = (await sub.next()).value as { event: { value: { payload: Uint8Array } } };
      got.push(new TextDecoder().decode(r.event.value.payload));
    }
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    abort.abort();
    await sub.return?.();
  });
});
