// Flow control of MemStore's messaging streams, driven by hand (no collector pulling in the background):
// an at-most-once subscription that is not read drops and counts beyond its buffer; an at-least-once
// stream never hands out more than max_in_flight unacked messages, however many are waiting.

import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { PublishRequestSchema, PubSubBasic, SubscribeRequestSchema } from '@prism/pubsub-basic';
import {
  AckRequestSchema,
  PublishPersistentRequestSchema,
  PubSubPersistent,
  SubscribeDurableRequestSchema,
} from '@prism/pubsub-persistent';
import { instantiatePlugin, MESSAGES_DROPPED_METRIC, type PluginMetrics } from '@prism/sdk';
import plugin from './index.js';
import { SUBSCRIPTION_BUFFER } from './pubsub.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
/** Lets every queued callback run, so a wrongly resolving promise would have resolved. */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('memstore messaging flow control', () => {
  it('drops and counts messages beyond the buffer of a subscription nobody reads', async () => {
    let dropped = 0;
    const metrics: PluginMetrics = {
      increment: (name, _labels, value = 1) => {
        if (name === MESSAGES_DROPPED_METRIC) dropped += value;
      },
      observe() {},
      gauge() {},
    };
    const handle = await instantiatePlugin(plugin, {}, { namespace: 'flow-drop', metrics });
    const ps = handle.get(PubSubBasic)!;
    const ac = new AbortController();
    const it = ps
      .subscribe(create(SubscribeRequestSchema, { namespace: 'flow-drop', topic: 't' }), {
        signal: ac.signal,
      })
      [Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ event: { case: 'subscribed' } });
    const total = SUBSCRIPTION_BUFFER + 500;
    for (let i = 0; i < total; i++)
      await ps.publish(
        create(PublishRequestSchema, { namespace: 'flow-drop', topic: 't', payload: utf8(String(i)) }),
        {
          signal: ac.signal,
        },
      );
    expect(dropped).toBe(500);
    // What was kept is the oldest, in order.
    for (let i = 0; i < SUBSCRIPTION_BUFFER; i++) {
      const r = await it.next();
      expect(r.value).toMatchObject({ event: { case: 'message' } });
      const ev = (r.value as { event: { value: { payload: Uint8Array } } }).event;
      expect(new TextDecoder().decode(ev.value.payload)).toBe(String(i));
    }
    ac.abort();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await handle.close();
  });

  it('holds at most max_in_flight unacked messages on a durable stream', async () => {
    const ns = 'flow-window';
    const handle = await instantiatePlugin(plugin, {}, { namespace: ns });
    const p = handle.get(PubSubPersistent)!;
    const ac = new AbortController();
    const ctx = { signal: ac.signal };
    const it = p
      .subscribeDurable(
        create(SubscribeDurableRequestSchema, {
          namespace: ns,
          topic: 't',
          subscription: 's',
          maxInFlight: 3,
        }),
        ctx,
      )
      [Symbol.asyncIterator]();
    await it.next(); // subscribed
    for (let i = 0; i < 20; i++)
      await p.publishPersistent(
        create(PublishPersistentRequestSchema, { namespace: ns, topic: 't', payload: utf8(`${i}`) }),
        ctx,
      );
    const ackIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await it.next();
      ackIds.push((r.value as { event: { value: { ackId: string } } }).event.value.ackId);
    }
    let fourth = false;
    const pending = it.next().then((r) => {
      fourth = true;
      return r;
    });
    await drain();
    expect(fourth).toBe(false);
    await p.ack(
      create(AckRequestSchema, { namespace: ns, topic: 't', subscription: 's', ackIds: [ackIds[0]!] }),
      ctx,
    );
    const r = await pending;
    expect(r.done).toBe(false);
    ac.abort();
    await it.return?.();
    await handle.close();
  });
});
