import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uniqueNamespace } from '@prism/keyvalue-basic/conformance';
import { QueueBasic } from '@prism/queue-basic';
import { queueClient } from '@prism/queue-basic/conformance';
import { ConfigureDeadLetterRequestSchema, QueueDeadLetter } from '@prism/queue-dead-letter';
import { EnqueueDelayedRequestSchema, QueueDelayed } from '@prism/queue-delayed';
import { QueuePriority } from '@prism/queue-priority';
import { priorityClient } from '@prism/queue-priority/conformance';
import { QueueVisibility } from '@prism/queue-visibility';
import { visibilityClient } from '@prism/queue-visibility/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import { createClient } from 'redis';
import plugin from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const key = (ns: string, part: string, queue: string) => `${ns}:\u0000q\u0000${part}\u0000${queue}`;
const ctx = { signal: new AbortController().signal };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('redis queues: data as it lands in Redis', () => {
  const raw = createClient({ url: testServerUrl('redis') });
  const handles: PluginHandle[] = [];
  const open = async (namespace: string) => {
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace });
    handles.push(h);
    const delayed = h.get(QueueDelayed)!;
    const dl = h.get(QueueDeadLetter)!;
    return {
      q: queueClient(h.get(QueueBasic)!, namespace),
      p: priorityClient(h.get(QueuePriority)!, namespace),
      v: visibilityClient(h.get(QueueVisibility)!, namespace),
      later: async (queue: string, delayMs: number) => {
        const res = await delayed.enqueueDelayed(
          create(EnqueueDelayedRequestSchema, {
            namespace,
            queue,
            payload: utf8('later'),
            when: { case: 'delayMs', value: BigInt(delayMs) },
          }),
          ctx,
        );
        return { id: String(res.messageId), at: Number(res.deliverAtMs) };
      },
      configure: async (queue: string, maxDeliveries: number, deadLetterQueue = '') => {
        await dl.configureDeadLetter(
          create(ConfigureDeadLetterRequestSchema, { namespace, queue, maxDeliveries, deadLetterQueue }),
          ctx,
        );
      },
    };
  };
  beforeAll(async () => {
    await raw.connect();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await raw.close();
  });

  it('keeps ready messages in a sorted set scored by (9 - priority) · 2^44 + sequence', async () => {
    const ns = uniqueNamespace('rq');
    const { q, p } = await open(ns);
    const low = await q.enqueue('jobs', utf8('low'));
    const high = await p.enqueue('jobs', utf8('high'), 9);
    const mid = await p.enqueue('jobs', utf8('mid'), 4);
    const ready = await raw.zRangeWithScores(key(ns, 'r', 'jobs'), 0, -1);
    expect(ready.map((e) => e.value)).toEqual([high, mid, low]);
    expect(ready.map((e) => e.score)).toEqual([2, 5 * 2 ** 44 + 3, 9 * 2 ** 44 + 1]);
    expect(await raw.hGet(key(ns, 'd', 'jobs'), `p:${high}`)).toBe('high');
    expect(await raw.exists(key(ns, 'f', 'jobs'))).toBe(0);
  });

  it('moves a received message to the in-flight set at its visibility deadline, and deletes it on ack', async () => {
    const ns = uniqueNamespace('rq');
    const { q, p } = await open(ns);
    const id = await p.enqueue('work', utf8('x'), 3, { kind: 'k' });
    const before = Date.now();
    const [m] = await q.receive('work', { visibilityMs: 60_000 });
    expect(m?.message?.id).toBe(id);
    expect(await raw.zCard(key(ns, 'r', 'work'))).toBe(0);
    const deadline = await raw.zScore(key(ns, 'f', 'work'), id);
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000 - 1000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
    expect(await raw.hGet(key(ns, 'd', 'work'), `r:${id}`)).toBe('1');
    expect(await q.ack('work', [m!.receipt])).toBe(1);
    expect(await q.ack('work', [m!.receipt])).toBe(0);
    expect(await raw.exists([key(ns, 'r', 'work'), key(ns, 'f', 'work'), key(ns, 'd', 'work')])).toBe(0);
  });

  it('ignores the receipt of an earlier delivery once the message was redelivered', async () => {
    const ns = uniqueNamespace('rq');
    const { q } = await open(ns);
    await q.enqueue('stale', utf8('s'));
    const [first] = await q.receive('stale', { visibilityMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const [second] = await q.receive('stale', { visibilityMs: 60_000 });
    expect(second?.deliveryCount).toBe(2);
    expect(await q.ack('stale', [first!.receipt, 'garbage', 'x:'])).toBe(0);
    expect(await q.ack('stale', [second!.receipt])).toBe(1);
  });

  it('wakes a long-polling Receive of another instance at once when a message is enqueued', async () => {
    const ns = uniqueNamespace('rq');
    const a = await open(ns);
    const b = await open(ns);
    const waiting = a.q.receive('wake', { waitMs: 10_000, visibilityMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const id = await b.p.enqueue('wake', utf8('w'), 5);
    const got = await waiting;
    expect(got.map((m) => m.message?.id)).toEqual([id]);
    // Woken by the PUBLISH, not by the 500 ms poll fallback.
    expect(Date.now() - t0).toBeLessThan(400);
  });

  it('ends a waiting Receive when the call is aborted', async () => {
    const ns = uniqueNamespace('rq');
    const h = await instantiatePlugin(plugin, { url: testServerUrl('redis') }, { namespace: ns });
    handles.push(h);
    const abort = new AbortController();
    const t0 = Date.now();
    const pending = Promise.resolve(
      h.get(QueueBasic)!.receive(
        {
          $typeName: 'prism.queue.v1.ReceiveRequest',
          namespace: ns,
          queue: 'abort',
          maxMessages: 1,
          waitMs: 10_000n,
          visibilityTimeoutMs: 0n,
        },
        { signal: abort.signal },
      ),
    );
    setTimeout(() => abort.abort(), 100);
    expect((await pending).messages).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('keeps a delayed message in the delayed set at its due time, and moves it to ready when due', async () => {
    const ns = uniqueNamespace('rq');
    const { q, later } = await open(ns);
    const before = Date.now();
    const { id, at } = await later('later', 1200);
    expect(at).toBeGreaterThanOrEqual(before + 1200);
    expect(await raw.zScore(key(ns, 't', 'later'), id)).toBe(at);
    expect(await raw.exists(key(ns, 'r', 'later'))).toBe(0);
    expect(await q.receive('later', { waitMs: 0 })).toEqual([]);
    expect(await raw.zScore(key(ns, 't', 'later'), id)).toBe(at);
    // A waiting Receive sleeps until the due time (the 500 ms poll alone would be ~300 ms late here).
    const got = await q.receive('later', { waitMs: 5000, visibilityMs: 60_000 });
    expect(got.map((m) => m.message?.id)).toEqual([id]);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(Date.now() - at).toBeLessThan(250);
    expect(await raw.exists(key(ns, 't', 'later'))).toBe(0);
    expect(await raw.zScore(key(ns, 'f', 'later'), id)).not.toBeNull();
    // Priority 0's level, sequence 1.
    expect(await raw.hGet(key(ns, 'd', 'later'), `s:${id}`)).toBe(String(9 * 2 ** 44 + 1));
  });

  it('Nack moves a delivery to the delayed set (or back to ready at its own score) and voids its receipt', async () => {
    const ns = uniqueNamespace('rq');
    const { q, p, v } = await open(ns);
    const id = await p.enqueue('nack', utf8('n'), 7);
    const [m] = await q.receive('nack', { visibilityMs: 60_000 });
    const before = Date.now();
    await v.nack('nack', m!.receipt, 30_000);
    expect(await raw.zScore(key(ns, 'f', 'nack'), id)).toBeNull();
    const due = await raw.zScore(key(ns, 't', 'nack'), id);
    expect(due).toBeGreaterThanOrEqual(before + 30_000 - 1000);
    expect(due).toBeLessThanOrEqual(Date.now() + 30_000 + 1000);
    expect(await raw.hGet(key(ns, 'd', 'nack'), `r:${id}`)).toBeNull();
    expect(await q.ack('nack', [m!.receipt])).toBe(0);
    await expect(v.nack('nack', m!.receipt)).rejects.toMatchObject({ code: 5 });
    // Make it due now, as if the delay passed: it comes back at its level with its delivery count kept.
    await raw.zAdd(key(ns, 't', 'nack'), { score: 0, value: id });
    const [again] = await q.receive('nack', { visibilityMs: 60_000 });
    expect(again?.deliveryCount).toBe(2);
    await v.nack('nack', again!.receipt);
    expect(await raw.zScore(key(ns, 'r', 'nack'), id)).toBe(2 * 2 ** 44 + 1);
    expect(await raw.exists([key(ns, 'f', 'nack'), key(ns, 't', 'nack')])).toBe(0);
    expect(await raw.hGet(key(ns, 'd', 'nack'), `d:${id}`)).toBe('2');
  });

  it('ExtendVisibility moves the in-flight deadline; an expired delivery cannot be extended', async () => {
    const ns = uniqueNamespace('rq');
    const { q, v } = await open(ns);
    const id = await q.enqueue('ext', utf8('e'));
    const [m] = await q.receive('ext', { visibilityMs: 1000 });
    const first = (await raw.zScore(key(ns, 'f', 'ext'), id))!;
    await v.extend('ext', m!.receipt, 120_000);
    const extended = (await raw.zScore(key(ns, 'f', 'ext'), id))!;
    expect(extended - first).toBeGreaterThanOrEqual(119_000 - 1000);
    const [n] = await q.receive('ext', { visibilityMs: 1 });
    expect(n).toBeUndefined();
    await q.enqueue('short', utf8('s'));
    const [s] = await q.receive('short', { visibilityMs: 1 });
    await pause(20);
    await expect(v.extend('short', s!.receipt, 1000)).rejects.toMatchObject({ code: 5 });
  });

  it('stores the dead-letter policy in Redis, so another instance applies it; moves messages intact', async () => {
    const ns = uniqueNamespace('rq');
    const a = await open(ns);
    const b = await open(ns);
    await a.configure('jobs', 1, 'jobs-dlq');
    expect(await raw.hGetAll(key(ns, 'p', 'jobs'))).toEqual({ max: '1', dlq: 'jobs-dlq' });
    const id = await a.p.enqueue('jobs', utf8('poison'), 8, { k: 'v' });
    const [m] = await b.q.receive('jobs', { visibilityMs: 1 });
    expect(m?.deliveryCount).toBe(1);
    await pause(20);
    // Instance b never saw the policy configured; the Receive script reads it from Redis.
    expect(await b.q.receive('jobs', { waitMs: 0, visibilityMs: 60_000 })).toEqual([]);
    expect(await raw.exists([key(ns, 'r', 'jobs'), key(ns, 'f', 'jobs'), key(ns, 'd', 'jobs')])).toBe(0);
    // Same priority level in the dead-letter queue, a fresh sequence there, delivery count 0.
    expect(await raw.zScore(key(ns, 'r', 'jobs-dlq'), id)).toBe(1 * 2 ** 44 + 1);
    expect(await raw.hGet(key(ns, 'd', 'jobs-dlq'), `d:${id}`)).toBe('0');
    const [dead] = await b.q.receive('jobs-dlq', { visibilityMs: 60_000 });
    expect(dead?.message?.id).toBe(id);
    expect(dead?.message?.metadata).toEqual({ k: 'v', 'prism-dead-letter-source': 'jobs' });
    // Removing the policy deletes the hash; a changed target is picked up by an instance that cached the old one.
    await a.configure('jobs', 0);
    expect(await raw.exists(key(ns, 'p', 'jobs'))).toBe(0);
    await a.configure('jobs', 1, 'other-dlq');
    await b.configure('jobs', 1, 'third-dlq');
    const id2 = await a.q.enqueue('jobs', utf8('again'));
    await a.q.receive('jobs', { visibilityMs: 1 });
    await pause(20);
    expect(await a.q.receive('jobs', { waitMs: 0 })).toEqual([]);
    expect(await raw.zScore(key(ns, 'r', 'third-dlq'), id2)).not.toBeNull();
    expect(await raw.exists(key(ns, 'r', 'other-dlq'))).toBe(0);
  });

  it('wakes a waiting Receive of another instance when a message is nacked', async () => {
    const ns = uniqueNamespace('rq');
    const a = await open(ns);
    const b = await open(ns);
    const id = await a.q.enqueue('wake-nack', utf8('w'));
    const [m] = await a.q.receive('wake-nack', { visibilityMs: 60_000 });
    const waiting = b.q.receive('wake-nack', { waitMs: 10_000, visibilityMs: 60_000 });
    await pause(100);
    const t0 = Date.now();
    await a.v.nack('wake-nack', m!.receipt);
    expect((await waiting).map((x) => x.message?.id)).toEqual([id]);
    expect(Date.now() - t0).toBeLessThan(400);
  });
});
