// Adapter-specific tests against a real nats-server -js: the effects are checked in NATS itself with an
// independent client (streams, consumers, stored messages), beyond what the conformance suites see.

import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  expectCode,
  pollUntil,
  StreamCollector,
  uniqueNamespace,
  utf8,
} from '@prism/pubsub-basic/conformance';
import {
  AckRequestSchema as PsAckRequestSchema,
  PublishPersistentRequestSchema,
  PubSubPersistent,
  SubscribeDurableRequestSchema,
} from '@prism/pubsub-persistent';
import {
  EnqueueRequestSchema,
  AckRequestSchema as QueueAckRequestSchema,
  QueueBasic,
  ReceiveRequestSchema,
} from '@prism/queue-basic';
import { ConfigureDeadLetterRequestSchema, QueueDeadLetter } from '@prism/queue-dead-letter';
import { EnqueueDelayedRequestSchema, QueueDelayed } from '@prism/queue-delayed';
import { ExtendVisibilityRequestSchema, NackRequestSchema, QueueVisibility } from '@prism/queue-visibility';
import { type CallContext, Code, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { AppendRequestSchema, ReadRequestSchema, StreamBasic, TrimRequestSchema } from '@prism/stream-basic';
import {
  AckRequestSchema as GroupAckRequestSchema,
  GroupStart,
  ReadGroupRequestSchema,
  StreamConsumerGroups,
} from '@prism/stream-consumer-groups';
import { testServerUrl } from '@prism/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import plugin from './index.js';
import { Names } from './names.js';

const ctx: CallContext = { signal: new AbortController().signal };

describe('nats adapter on JetStream', () => {
  let handle: PluginHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const namespace = uniqueNamespace('natsjs');
  const names = new Names(namespace, 'PRISM');

  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { servers: [testServerUrl('nats')], ack_wait_ms: 3_000 },
      { namespace },
    );
    nc = await connect({ servers: testServerUrl('nats') });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    await handle?.close();
    await nc?.close();
  });

  it('appends records to a per-stream JetStream stream whose sequences are the offsets', async () => {
    const s = handle.get(StreamBasic)!;
    const r1 = await s.append(
      create(AppendRequestSchema, { namespace, stream: 'orders.eu', payload: utf8('a'), metadata: {} }),
      ctx,
    );
    const r2 = await s.append(
      create(AppendRequestSchema, { namespace, stream: 'orders.eu', payload: utf8('b'), metadata: {} }),
      ctx,
    );
    expect(Number(r2.offset)).toBe(Number(r1.offset) + 1);
    const stored = await jsm.streams.getMessage(names.stream('orders.eu'), { seq: Number(r2.offset) });
    expect(new TextDecoder().decode(stored.data)).toBe('b');
    expect(stored.subject).toBe(names.streamSubject('orders.eu'));
    expect(stored.time.getTime()).toBe(Number(r2.timestampMs));
    await s.trim(create(TrimRequestSchema, { namespace, stream: 'orders.eu', beforeOffset: r2.offset }), ctx);
    const info = await jsm.streams.info(names.stream('orders.eu'));
    expect(info.state.first_seq).toBe(Number(r2.offset));
    const read: number[] = [];
    for await (const r of s.read(create(ReadRequestSchema, { namespace, stream: 'orders.eu' }), ctx))
      read.push(Number(r.offset));
    expect(read).toEqual([Number(r2.offset)]);
    // The read's ephemeral consumer is released when the read ends.
    await pollUntil('the read consumer to be deleted', async () => {
      return (await jsm.streams.info(names.stream('orders.eu'))).state.consumer_count === 0;
    });
  });

  it('keeps a durable subscription as a JetStream consumer that survives the stream closing', async () => {
    const ps = handle.get(PubSubPersistent)!;
    const open = () =>
      new StreamCollector((c) =>
        ps.subscribeDurable(
          create(SubscribeDurableRequestSchema, { namespace, topic: 'audit', subscription: 'auditor' }),
          c,
        ),
      );
    const first = open();
    await first.atLeast(1, 'subscribed');
    await first.cancel();
    const consumers = await jsm.consumers.list(names.durableTopicsStream).next();
    expect(consumers.map((c) => c.config.filter_subject)).toContain(names.durableTopicSubject('audit'));
    // Published while no stream is open: kept for the subscription.
    const { messageId } = await ps.publishPersistent(
      create(PublishPersistentRequestSchema, {
        namespace,
        topic: 'audit',
        payload: utf8('kept'),
        metadata: {},
      }),
      ctx,
    );
    const second = open();
    const items = await second.atLeast(2, 'the kept message');
    const delivered = items[1] as { event: { value: { message: { id: string }; ackId: string } } };
    expect(delivered.event.value.message.id).toBe(messageId);
    await ps.ack(
      create(PsAckRequestSchema, {
        namespace,
        topic: 'audit',
        subscription: 'auditor',
        ackIds: [delivered.event.value.ackId],
      }),
      ctx,
    );
    await pollUntil('the message to be acked in JetStream', async () => {
      const info = await jsm.consumers.info(names.durableTopicsStream, 'audit__auditor');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    await second.cancel();
  });

  it('frees a durable subscription slot when the ack comes through another instance (proxy replica)', async () => {
    const ps = handle.get(PubSubPersistent)!;
    const sub = new StreamCollector((c) =>
      ps.subscribeDurable(
        create(SubscribeDurableRequestSchema, {
          namespace,
          topic: 'replica',
          subscription: 'r',
          maxInFlight: 1,
          ackWaitMs: 60_000n,
        }),
        c,
      ),
    );
    await sub.atLeast(1, 'subscribed');
    for (const p of ['m0', 'm1'])
      await ps.publishPersistent(
        create(PublishPersistentRequestSchema, {
          namespace,
          topic: 'replica',
          payload: utf8(p),
          metadata: {},
        }),
        ctx,
      );
    type Delivery = { event: { value: { message: { payload: Uint8Array }; ackId: string } } };
    const first = (await sub.atLeast(2, 'the first message'))[1] as Delivery;
    expect(new TextDecoder().decode(first.event.value.message.payload)).toBe('m0');
    const replica = await instantiatePlugin(plugin, { servers: [testServerUrl('nats')] }, { namespace });
    try {
      await replica.get(PubSubPersistent)!.ack(
        create(PsAckRequestSchema, {
          namespace,
          topic: 'replica',
          subscription: 'r',
          ackIds: [first.event.value.ackId],
        }),
        ctx,
      );
      // Long before the 60 s ack wait.
      const second = (await sub.atLeast(3, 'the second message', 5_000))[2] as Delivery;
      expect(new TextDecoder().decode(second.event.value.message.payload)).toBe('m1');
      await ps.ack(
        create(PsAckRequestSchema, {
          namespace,
          topic: 'replica',
          subscription: 'r',
          ackIds: [second.event.value.ackId],
        }),
        ctx,
      );
    } finally {
      await replica.close();
    }
    await sub.cancel();
  });

  it('redelivers a group record whose member died before acking to another member', async () => {
    const s = handle.get(StreamBasic)!;
    const g = handle.get(StreamConsumerGroups)!;
    const member = (consumer: string) =>
      new StreamCollector((c) =>
        g.readGroup(
          create(ReadGroupRequestSchema, {
            namespace,
            stream: 'jobs',
            group: 'workers',
            consumer,
            start: GroupStart.EARLIEST,
          }),
          c,
        ),
      );
    const a = member('a');
    await s.append(
      create(AppendRequestSchema, { namespace, stream: 'jobs', payload: utf8('job'), metadata: {} }),
      ctx,
    );
    await a.atLeast(1, 'the job at member a');
    const b = member('b');
    await a.cancel(); // dies without acking
    const got = (await b.atLeast(1, 'the job redelivered to b')) as {
      deliveryCount: number;
      ackId: string;
    }[];
    expect(got[0]?.deliveryCount).toBe(2);
    await g.ack(
      create(GroupAckRequestSchema, {
        namespace,
        stream: 'jobs',
        group: 'workers',
        ackIds: [got[0]?.ackId ?? ''],
      }),
      ctx,
    );
    await b.cancel();
    const info = await jsm.consumers.info(names.stream('jobs'), 'g-workers');
    expect(info.num_ack_pending).toBe(0);
  });

  it('queues: work-queue stream, nack/extend via the pending deadline, dead-lettering and delays', async () => {
    const q = handle.get(QueueBasic)!;
    const vis = handle.get(QueueVisibility)!;
    const dl = handle.get(QueueDeadLetter)!;
    const delayed = handle.get(QueueDelayed)!;
    const receive = (queue: string, waitMs = 0, visibilityTimeoutMs = 0) =>
      q.receive(
        create(ReceiveRequestSchema, {
          namespace,
          queue,
          maxMessages: 10,
          waitMs: BigInt(waitMs),
          visibilityTimeoutMs: BigInt(visibilityTimeoutMs),
        }),
        ctx,
      );

    await dl.configureDeadLetter(
      create(ConfigureDeadLetterRequestSchema, {
        namespace,
        queue: 'tasks',
        maxDeliveries: 2,
        deadLetterQueue: 'tasks.dead',
      }),
      ctx,
    );
    const { messageId } = await q.enqueue(
      create(EnqueueRequestSchema, { namespace, queue: 'tasks', payload: utf8('t'), metadata: { a: '1' } }),
      ctx,
    );
    expect((await jsm.streams.info(names.queue('tasks'))).state.messages).toBe(1);
    for (let i = 1; i <= 2; i++) {
      const [m] = (await receive('tasks', 5_000)).messages ?? [];
      expect(m?.deliveryCount).toBe(i);
      await vis.nack(
        create(NackRequestSchema, { namespace, queue: 'tasks', receipt: m?.receipt ?? '', delayMs: 0n }),
        ctx,
      );
    }
    // The third delivery exceeds the policy: moved, not returned.
    expect((await receive('tasks', 500)).messages ?? []).toHaveLength(0);
    const [dead] = (await receive('tasks.dead', 5_000)).messages ?? [];
    expect(dead?.message?.id).toBe(messageId);
    expect(dead?.message?.metadata).toEqual({ a: '1', 'prism-dead-letter-source': 'tasks' });
    expect((await jsm.streams.info(names.queue('tasks'))).state.messages).toBe(0);

    // Extend keeps a message invisible past the consumer's ack wait (3 s here).
    await q.enqueue(
      create(EnqueueRequestSchema, { namespace, queue: 'long', payload: utf8('l'), metadata: {} }),
      ctx,
    );
    const [held] = (await receive('long', 5_000, 1_000)).messages ?? [];
    await vis.extendVisibility(
      create(ExtendVisibilityRequestSchema, {
        namespace,
        queue: 'long',
        receipt: held?.receipt ?? '',
        visibilityTimeoutMs: 60_000n,
      }),
      ctx,
    );
    const ack = await q.ack(
      create(QueueAckRequestSchema, { namespace, queue: 'long', receipts: [held?.receipt ?? ''] }),
      ctx,
    );
    expect(ack.ackedCount).toBe(1);

    const at = Date.now() + 1_500;
    await delayed.enqueueDelayed(
      create(EnqueueDelayedRequestSchema, {
        namespace,
        queue: 'later',
        payload: utf8('d'),
        metadata: {},
        when: { case: 'deliverAtMs', value: BigInt(at) },
      }),
      ctx,
    );
    expect((await jsm.streams.info(names.delayedStream)).state.messages).toBe(1);
    const later = await pollUntil('the delayed message', async () => {
      const r = await receive('later', 1_000);
      return r.messages?.length ? r.messages : undefined;
    });
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(later).toHaveLength(1);
  });

  it('ignores a receipt whose delivery was superseded, and answers NOT_FOUND for it', async () => {
    const q = handle.get(QueueBasic)!;
    const vis = handle.get(QueueVisibility)!;
    await q.enqueue(create(EnqueueRequestSchema, { namespace, queue: 'stale', payload: utf8('s') }), ctx);
    const recv = (visibilityTimeoutMs: bigint) =>
      q.receive(
        create(ReceiveRequestSchema, { namespace, queue: 'stale', waitMs: 1_000n, visibilityTimeoutMs }),
        ctx,
      );
    const [old] = (await recv(300n)).messages ?? [];
    const fresh = await pollUntil('the redelivery', async () => (await recv(30_000n)).messages?.[0]);
    expect(fresh.deliveryCount).toBe(2);
    const stale = await q.ack(
      create(QueueAckRequestSchema, { namespace, queue: 'stale', receipts: [old?.receipt ?? ''] }),
      ctx,
    );
    expect(stale.ackedCount).toBe(0);
    await expectCode(
      () =>
        vis.nack(create(NackRequestSchema, { namespace, queue: 'stale', receipt: old?.receipt ?? '' }), ctx),
      Code.NotFound,
    );
    const ok = await q.ack(
      create(QueueAckRequestSchema, { namespace, queue: 'stale', receipts: [fresh.receipt ?? ''] }),
      ctx,
    );
    expect(ok.ackedCount).toBe(1);
    expect((await jsm.streams.info(names.queue('stale'))).state.messages).toBe(0);
  });
});
