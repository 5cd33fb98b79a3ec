import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from '@jest/globals';
import { PubSubBasic, SubscribeRequestSchema } from '@prism/pubsub-basic';
import { expectCode, pollUntil, pubsubBasic, sameBytes, utf8 } from '@prism/pubsub-basic/conformance';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { pubsubWildcards } from '@prism/pubsub-wildcards/conformance';
import { QueueBasic } from '@prism/queue-basic';
import { queueClient } from '@prism/queue-basic/conformance';
import { ConfigureDeadLetterRequestSchema, QueueDeadLetter } from '@prism/queue-dead-letter';
import { EnqueueDelayedRequestSchema, QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import { visibilityClient } from '@prism/queue-visibility/conformance';
import { Code, instantiatePlugin, MESSAGES_DROPPED_METRIC, type PluginMetrics } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import { useTestDatabase } from './database.test-util.js';
import plugin from './index.js';
import { channelName, MAX_CHANNEL_BYTES } from './listener.js';
import { inlineNotification, NOTIFY_MAX_BYTES } from './pubsub.js';

const ctx = { signal: new AbortController().signal };

const db = useTestDatabase();

async function open(namespace: string, config: Record<string, unknown> = {}, metrics?: PluginMetrics) {
  const h = await db.open({ pool_size: 2, ...config }, { namespace, metrics });
  return {
    handle: h,
    q: queueClient(h.get(QueueBasic)!, namespace),
    vis: visibilityClient(h.get(QueueVisibility)!, namespace),
    ps: pubsubBasic(h.get(PubSubBasic)!, namespace),
    deadLetter: (queue: string, maxDeliveries: number, deadLetterQueue: string) =>
      h
        .get(QueueDeadLetter)!
        .configureDeadLetter(
          create(ConfigureDeadLetterRequestSchema, { namespace, queue, maxDeliveries, deadLetterQueue }),
          ctx,
        ),
    delayed: (queue: string, delayMs: number) =>
      h.get(QueueDelayed)!.enqueueDelayed(
        create(EnqueueDelayedRequestSchema, {
          namespace,
          queue,
          payload: utf8('later'),
          when: { case: 'delayMs', value: BigInt(delayMs) },
        }),
        ctx,
      ),
  };
}

const rowsOf = (namespace: string, queue: string) =>
  db.direct`SELECT id::text, payload, metadata, delivery_count, receipt::text,
           visible_at > now() AS invisible
         FROM prism.queue_messages WHERE namespace = ${namespace} AND queue = ${queue} ORDER BY seq`;

describe('postgres queues, checked in the table', () => {
  it('stores an enqueued message, marks its delivery, and deletes it on ack', async () => {
    const { q } = await open('q-rows');
    const id = await q.enqueue('jobs', utf8('payload'), { kind: 'x' });
    expect(await rowsOf('q-rows', 'jobs')).toEqual([
      {
        id,
        payload: Buffer.from('payload'),
        metadata: { kind: 'x' },
        delivery_count: 0,
        receipt: null,
        invisible: false,
      },
    ]);
    const [m] = await q.receive('jobs', { visibilityMs: 60_000 });
    const [row] = await rowsOf('q-rows', 'jobs');
    expect(row).toMatchObject({ id, delivery_count: 1, invisible: true });
    expect(m?.receipt).toBe(`${id}.${row?.receipt}`);
    expect(await q.ack('jobs', [m!.receipt])).toBe(1);
    expect(await rowsOf('q-rows', 'jobs')).toEqual([]);
  });

  it('ignores a stale receipt after redelivery: it neither acks, nacks nor extends the new delivery', async () => {
    const { q, vis } = await open('q-stale');
    const id = await q.enqueue('jobs', utf8('x'));
    const first = await q.receiveId('jobs', id, { visibilityMs: 300 });
    const second = await q.receiveId('jobs', id, { visibilityMs: 60_000 });
    expect(second.hit.deliveryCount).toBe(2);
    expect(second.hit.receipt).not.toBe(first.hit.receipt);
    expect(await q.ack('jobs', [first.hit.receipt])).toBe(0);
    await expectCode(() => vis.nack('jobs', first.hit.receipt), Code.NotFound);
    await expectCode(() => vis.extend('jobs', first.hit.receipt, 1000), Code.NotFound);
    expect(await rowsOf('q-stale', 'jobs')).toHaveLength(1);
    // The receipt is bound to its queue, and a malformed one is rejected before anything is deleted.
    expect(await q.ack('other', [second.hit.receipt])).toBe(0);
    await expectCode(() => q.ack('jobs', [second.hit.receipt, 'garbage']), Code.InvalidArgument);
    expect(await q.ack('jobs', [second.hit.receipt, second.hit.receipt])).toBe(1);
    expect(await rowsOf('q-stale', 'jobs')).toEqual([]);
  });

  it('moves a message past max_deliveries to the dead-letter queue row, keeping its id', async () => {
    const { q, deadLetter } = await open('q-dlq');
    await deadLetter('work', 1, 'work-dlq');
    expect(
      await db.direct`SELECT max_deliveries, dead_letter_queue FROM prism.queue_policies WHERE namespace = 'q-dlq'`,
    ).toEqual([{ max_deliveries: 1, dead_letter_queue: 'work-dlq' }]);
    const id = await q.enqueue('work', utf8('poison'), { kind: 'p' });
    await q.receiveId('work', id, { visibilityMs: 200 });
    await pollUntil('the message in the dead-letter queue table', async () => {
      await q.receive('work', { waitMs: 50 });
      return (await rowsOf('q-dlq', 'work-dlq')).length === 1;
    });
    expect(await rowsOf('q-dlq', 'work')).toEqual([]);
    expect(await rowsOf('q-dlq', 'work-dlq')).toEqual([
      {
        id,
        payload: Buffer.from('poison'),
        metadata: { kind: 'p', 'prism-dead-letter-source': 'work' },
        delivery_count: 0,
        receipt: null,
        invisible: false,
      },
    ]);
  });

  it('stores a delayed message with a future visible_at and the server time it answers', async () => {
    const { delayed } = await open('q-delay');
    const res = await delayed('later', 600_000);
    const [row] = await db.direct`SELECT ceil(extract(epoch FROM visible_at) * 1000)::int8 AS at,
      visible_at > now() + interval '500 seconds' AS future
      FROM prism.queue_messages WHERE namespace = 'q-delay' AND id = ${res.messageId ?? ''}`;
    expect(row?.future).toBe(true);
    expect(BigInt(row?.at)).toBe(res.deliverAtMs);
  });

  it('keeps messages across instances: enqueue, close, new instance, receive', async () => {
    const first = await open('q-durable');
    const ids = [await first.q.enqueue('d', utf8('1')), await first.q.enqueue('d', utf8('2'))];
    await first.handle.close();
    const second = await open('q-durable');
    const got = await second.q.receiveAll('d', ids, { visibilityMs: 60_000 });
    expect(
      await second.q.ack(
        'd',
        [...got.values()].map((m) => m.receipt),
      ),
    ).toBe(2);
    expect(await rowsOf('q-durable', 'd')).toEqual([]);
  });

  it('keeps namespaces apart in the shared table', async () => {
    const a = await open('q-iso-a');
    const b = await open('q-iso-b');
    await a.q.enqueue('same', utf8('a'));
    expect(await b.q.receive('same')).toEqual([]);
    expect(await rowsOf('q-iso-a', 'same')).toHaveLength(1);
    expect(await rowsOf('q-iso-b', 'same')).toHaveLength(0);
  });

  it('creates its tables once when several instances start at once on a fresh database', async () => {
    const fresh = await createDatabase(testServerUrl('postgres'));
    try {
      const started = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          instantiatePlugin(plugin, { url: fresh, pool_size: 1 }, { namespace: `race-${i}` }),
        ),
      );
      await Promise.all(started.map((h) => h.close()));
    } finally {
      await dropDatabase(fresh);
    }
  });
});

describe('postgres queue long-polls', () => {
  it('holds no pool connection while waiting: other calls go through a pool of one', async () => {
    const { q, handle } = await open('lp-pool', { pool_size: 1, queue_poll_interval_ms: 10_000 });
    let settled = 0;
    const waiting = Array.from({ length: 5 }, (_, i) =>
      q.receive(`idle-${i}`, { waitMs: 20_000 }).finally(() => settled++),
    );
    const id = await q.enqueue('busy', utf8('through'));
    const [m] = await q.receive('busy');
    expect(m?.message?.id).toBe(id);
    // Had the waiters held the only connection, these calls would have waited for them to give up.
    expect(settled).toBe(0);
    // The pool's one connection plus the dedicated LISTEN connection (opened by the first wait), no more.
    const sessions = async () =>
      (
        await db.direct`SELECT application_name, count(*)::int AS n FROM pg_stat_activity
          WHERE application_name IN ('prism:lp-pool', 'prism-listen:lp-pool') GROUP BY 1 ORDER BY 1`
      ).map((r) => `${r.application_name}=${r.n}`);
    await pollUntil('the LISTEN connection', async () => (await sessions()).length === 2);
    expect(await sessions()).toEqual(['prism-listen:lp-pool=1', 'prism:lp-pool=1']);
    expect(settled).toBe(0);
    // Closing the instance ends the long-polls at once, empty.
    await handle.close();
    expect(await Promise.all(waiting)).toEqual([[], [], [], [], []]);
  });

  it('is woken by an enqueue on another instance (NOTIFY), not only by polling', async () => {
    const receiver = await open('lp-wake', { queue_poll_interval_ms: 60_000 });
    const sender = await open('lp-wake');
    // Prime the LISTEN so the wake-up cannot be missed, then wait far longer than this test may take.
    await receiver.q.receive('wake', { waitMs: 20 });
    const waiting = receiver.q.receive('wake', { waitMs: 20_000 });
    const id = await sender.q.enqueue('wake', utf8('hello'));
    const [m] = await waiting;
    expect(m?.message?.id).toBe(id);
  }, 15_000);

  it('answers a canceled Receive with CANCELED', async () => {
    const { handle } = await open('lp-cancel');
    const abort = new AbortController();
    const req = { namespace: 'lp-cancel', queue: 'never', maxMessages: 1, waitMs: 20_000n };
    const pending = handle.get(QueueBasic)!.receive(req as never, { signal: abort.signal });
    abort.abort();
    await expectCode(() => Promise.resolve(pending), Code.Canceled);
  });
});

describe('postgres pub/sub over LISTEN/NOTIFY', () => {
  it('uses the real server limit: a 7999-byte NOTIFY passes, 8000 bytes fail', async () => {
    await db.direct`SELECT pg_notify('limit-probe', ${'x'.repeat(NOTIFY_MAX_BYTES)})`;
    await expect(
      db.direct`SELECT pg_notify('limit-probe', ${'x'.repeat(NOTIFY_MAX_BYTES + 1)})`,
    ).rejects.toThrow(/payload string too long/);
  });

  it('sends a message inline up to the NOTIFY limit and through the table just above it', async () => {
    const { ps, handle } = await open('ps-boundary');
    const s = await ps.subscribe('edge');
    const pattern = await pubsubWildcards(handle.get(PubSubWildcards)!, 'ps-boundary').subscribe('>');
    // The largest payload whose inline notification still fits, and one byte more.
    const size = (n: number) =>
      Buffer.byteLength(
        inlineNotification('ps-boundary', 'edge', crypto.randomUUID(), Date.now(), new Uint8Array(n), {}),
      );
    let fits = 0;
    while (size(fits + 1) <= NOTIFY_MAX_BYTES) fits++;
    expect(size(fits)).toBeLessThanOrEqual(NOTIFY_MAX_BYTES);
    expect(size(fits + 1)).toBeGreaterThan(NOTIFY_MAX_BYTES);
    const small = Uint8Array.from({ length: fits }, (_, i) => i & 0xff);
    const big = Uint8Array.from({ length: fits + 1 }, (_, i) => (i * 3) & 0xff);
    const inlineId = await ps.publish('edge', small);
    const storedId = await ps.publish('edge', big, { note: 'stored' });
    expect(sameBytes((await s.waitForId(inlineId)).payload, small)).toBe(true);
    const stored = await s.waitForId(storedId);
    expect(sameBytes(stored.payload, big)).toBe(true);
    expect(stored.metadata).toEqual({ note: 'stored' });
    expect(s.messages.map((m) => m.id)).toEqual([inlineId, storedId]);
    // Pattern subscriptions get both too, through the namespace's pattern channel.
    await pattern.waitForId(storedId);
    expect(pattern.messages.map((m) => [m.id, m.topic, m.payload.byteLength])).toEqual([
      [inlineId, 'edge', fits],
      [storedId, 'edge', fits + 1],
    ]);
    await pattern.cancel();
    const rows =
      await db.direct`SELECT id::text, topic FROM prism.pubsub_messages WHERE namespace = 'ps-boundary'`;
    expect(rows).toEqual([{ id: storedId, topic: 'edge' }]);
    await s.cancel();
  });

  it('keeps publish order when large and small messages interleave, and sweeps stored rows', async () => {
    const { ps } = await open('ps-order', { pubsub_retention_ms: 3000, sweep_interval_ms: 50 });
    const s = await ps.subscribe('mixed');
    const payloads = Array.from({ length: 12 }, (_, i) => new Uint8Array(i % 3 === 0 ? 50_000 : 10).fill(i));
    const ids: string[] = [];
    for (const p of payloads) ids.push(await ps.publish('mixed', p));
    const got = await s.atLeast(12);
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(got.every((m, i) => sameBytes(m.payload, payloads[i]!))).toBe(true);
    await pollUntil('the sweeper deleted the stored messages', async () => {
      const [row] =
        await db.direct`SELECT count(*)::int AS n FROM prism.pubsub_messages WHERE namespace = 'ps-order'`;
      return row?.n === 0;
    });
    await s.cancel();
  });

  it('derives channel names of at most 63 bytes, hashing long topics without mixing them up', async () => {
    expect(channelName('prism', 'ps', 'ns', 'orders')).toBe('prism:ps:ns:orders');
    const longA = `${'a'.repeat(100)}.one`;
    const longB = `${'a'.repeat(100)}.two`;
    const a = channelName('prism', 'ps', 'ps-long', longA);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(MAX_CHANNEL_BYTES);
    expect(a).toBe(channelName('prism', 'ps', 'ps-long', longA));
    expect(a).not.toBe(channelName('prism', 'ps', 'ps-long', longB));
    const { ps } = await open('ps-long');
    const sa = await ps.subscribe(longA);
    const sb = await ps.subscribe(longB);
    await ps.publish(longB, utf8('b'));
    const id = await ps.publish(longA, utf8('a'));
    await sa.waitForId(id);
    expect(sa.messages.map((m) => m.topic)).toEqual([longA]);
    await sb.atLeast(1);
    expect(sb.messages.map((m) => m.topic)).toEqual([longB]);
    await Promise.all([sa.cancel(), sb.cancel()]);
  });

  it('shares one LISTEN per topic and UNLISTENs when the last stream of the topic is cancelled', async () => {
    const { ps, handle } = await open('ps-unlisten');
    const listening = async () => Number((await handle.health()).details?.listening);
    const s1 = await ps.subscribe('t');
    const s2 = await ps.subscribe('t');
    expect(await listening()).toBe(1);
    await s1.cancel();
    expect(await listening()).toBe(1);
    const id = await ps.publish('t', utf8('still'));
    await s2.waitForId(id);
    await s2.cancel();
    await pollUntil('no channel listened to', async () => (await listening()) === 0);
    expect(s1.messages.map((m) => m.id)).not.toContain(id);
  });

  it('ends open subscription streams with UNAVAILABLE when the instance closes', async () => {
    const { handle } = await open('ps-close');
    const abort = new AbortController();
    const stream = handle
      .get(PubSubBasic)!
      .subscribe(create(SubscribeRequestSchema, { namespace: 'ps-close', topic: 't' }), {
        signal: abort.signal,
      })
      [Symbol.asyncIterator]();
    expect((await stream.next()).value?.event?.case).toBe('subscribed');
    const ended = expectCode(() => stream.next(), Code.Unavailable);
    await handle.close();
    await ended;
  });

  it('drops and counts what a slow subscriber cannot take, keeping what it delivers in order', async () => {
    const dropped: number[] = [];
    const metrics: PluginMetrics = {
      increment: (name, _labels, value = 1) => {
        if (name === MESSAGES_DROPPED_METRIC) dropped.push(value);
      },
      observe: () => {},
      gauge: () => {},
    };
    const { ps, handle } = await open('ps-slow', { subscription_buffer: 2 }, metrics);
    const abort = new AbortController();
    const stream = handle
      .get(PubSubBasic)!
      .subscribe(create(SubscribeRequestSchema, { namespace: 'ps-slow', topic: 'fast' }), {
        signal: abort.signal,
      })
      [Symbol.asyncIterator]();
    expect((await stream.next()).value?.event?.case).toBe('subscribed');
    // The client reads nothing while 10 messages arrive: 2 are held, 8 dropped.
    for (let i = 0; i < 10; i++) await ps.publish('fast', utf8(String(i)));
    await pollUntil('8 drops counted', () => dropped.length === 8);
    const first = await stream.next();
    const second = await stream.next();
    const texts = [first, second].map((r) =>
      r.value?.event?.case === 'message' ? new TextDecoder().decode(r.value.event.value.payload) : '',
    );
    expect(texts).toEqual(['0', '1']);
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
