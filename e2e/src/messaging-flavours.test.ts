// The newer messaging flavours through the proxy process over gRPC and gRPC-web: filtered and ordered
// pub/sub on NATS, priority queues and stream retention on Redis (read back with node-redis), and
// partitioned streams on Kafka (read back with Kafka's own tools).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Transport } from '@connectrpc/connect';
import { createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PubSubBasicInterface } from '@prism/pubsub-basic';
import { PubSubFilteringInterface } from '@prism/pubsub-filtering';
import { PubSubOrderingInterface } from '@prism/pubsub-ordering';
import { QueueBasicInterface } from '@prism/queue-basic';
import { QueuePriorityInterface } from '@prism/queue-priority';
import { StreamBasicInterface } from '@prism/stream-basic';
import { StreamPartitioningInterface } from '@prism/stream-partitioning';
import { StreamRetentionInterface } from '@prism/stream-retention';
import { kafkaPartitionEndOffsets, listKafkaTopics, testServerUrl } from '@prism/testing';
import { createClient as createRedisClient } from 'redis';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads a server stream until `n` messages arrived (skipping the `subscribed` event) or it ends. */
async function take<T>(
  it: AsyncIterator<T>,
  n: number,
  pick: (v: T) => string | undefined,
): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const { value, done } = await it.next();
    if (done) break;
    const got = pick(value);
    if (got !== undefined) out.push(got);
  }
  return out;
}

describe('filtering, ordering, priorities and retention through the proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prism-e2e-flavours-'));
  let proxy: ProxyProcess;
  let redis: ReturnType<typeof createRedisClient>;
  const doors: Record<string, () => Transport> = {
    gRPC: () => createGrpcTransport({ baseUrl: proxy.url }),
    'gRPC-web': () => createGrpcWebTransport({ baseUrl: proxy.url, httpVersion: '2' }),
  };

  beforeAll(async () => {
    redis = createRedisClient({ url: testServerUrl('redis') });
    await redis.connect();
    const config = join(dir, 'prism.yaml');
    const nats = `{ type: nats, config: { servers: ["${testServerUrl('nats')}"] } }`;
    const redisBackend = `{ type: redis, config: { url: "${testServerUrl('redis')}" } }`;
    writeFileSync(
      config,
      `proxy:
  listen: 127.0.0.1:0
namespaces:
  - { name: fl-events, pattern: pubsub, needs: [pubsub_filtering, pubsub_ordering], backend: ${nats} }
  - { name: fl-jobs, pattern: queue, needs: [queue_priority], backend: ${redisBackend} }
  - { name: fl-log, pattern: stream, needs: [stream_retention], backend: ${redisBackend} }
  - { name: fl-keyed, pattern: stream, needs: [stream_partitioning], backend: { type: kafka, config: { brokers: ["${testServerUrl('kafka')}"] } } }
`,
    );
    proxy = await startProxyProcess(config);
  });
  afterAll(async () => {
    await proxy?.stop('SIGTERM');
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [door, transport] of Object.entries(doors)) {
    describe(`over ${door}`, () => {
      it('PubSub filtering on NATS: only messages whose metadata match the filter arrive', async () => {
        const t = transport();
        const topic = `orders.${door === 'gRPC' ? 'a' : 'b'}`;
        const stop = new AbortController();
        const sub = createClient(PubSubFilteringInterface, t)
          .subscribeFiltered(
            {
              namespace: 'fl-events',
              topic,
              filter: {
                condition: {
                  case: 'and',
                  value: {
                    filters: [
                      { condition: { case: 'eq', value: { field: 'region', value: 'eu' } } },
                      { condition: { case: 'ge', value: { field: 'amount', value: 100 } } },
                    ],
                  },
                },
              },
            },
            { signal: stop.signal },
          )
          [Symbol.asyncIterator]();
        expect((await sub.next()).value?.event.case).toBe('subscribed');
        const pub = createClient(PubSubBasicInterface, t);
        for (const [region, amount, name] of [
          ['us', '500', 'us-big'],
          ['eu', '50', 'eu-small'],
          ['eu', '250', 'eu-big'],
          ['eu', 'n/a', 'eu-unknown'],
          ['eu', '100', 'eu-edge'],
        ] as const)
          await pub.publish({
            namespace: 'fl-events',
            topic,
            payload: enc(name),
            metadata: { region, amount },
          });
        const got = await take(sub, 2, (v) =>
          v.event.case === 'message' ? dec(v.event.value.payload) : undefined,
        );
        stop.abort();
        expect(got).toEqual(['eu-big', 'eu-edge']);
      });

      it('PubSub ordering on NATS: each key arrives in publish order under concurrent publishers', async () => {
        const t = transport();
        const topic = `ticks.${door === 'gRPC' ? 'a' : 'b'}`;
        const stop = new AbortController();
        const sub = createClient(PubSubOrderingInterface, t)
          .subscribeOrdered({ namespace: 'fl-events', topic }, { signal: stop.signal })
          [Symbol.asyncIterator]();
        expect((await sub.next()).value?.event.case).toBe('subscribed');
        const pub = createClient(PubSubOrderingInterface, t);
        const keys = ['k1', 'k2', 'k3'];
        await Promise.all(
          keys.map(async (k) => {
            for (let i = 0; i < 20; i++)
              await pub.publishOrdered({
                namespace: 'fl-events',
                topic,
                orderingKey: k,
                payload: enc(`${k}:${i}`),
              });
          }),
        );
        const got = await take(sub, 60, (v) =>
          v.event.case === 'message' ? dec(v.event.value.message?.payload ?? new Uint8Array()) : undefined,
        );
        stop.abort();
        for (const k of keys)
          expect(got.filter((s) => s.startsWith(`${k}:`))).toEqual(
            Array.from({ length: 20 }, (_, i) => `${k}:${i}`),
          );
      });

      it('Queue priority on Redis: the highest level is received first, FIFO within a level', async () => {
        const t = transport();
        const queue = `work-${door === 'gRPC' ? 'a' : 'b'}`;
        const prio = createClient(QueuePriorityInterface, t);
        const q = createClient(QueueBasicInterface, t);
        for (const [name, priority] of [
          ['low-1', 0],
          ['high-1', 9],
          ['mid-1', 5],
          ['high-2', 9],
          ['low-2', 0],
        ] as const)
          await prio.enqueueWithPriority({ namespace: 'fl-jobs', queue, payload: enc(name), priority });
        // The messages wait in the queue's ready sorted set in Redis itself.
        expect(await redis.zCard(`fl-jobs:\u0000q\u0000r\u0000${queue}`)).toBe(5);
        const got: string[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await q.receive({
            namespace: 'fl-jobs',
            queue,
            maxMessages: 1,
            visibilityTimeoutMs: 30_000n,
          });
          for (const m of res.messages) {
            got.push(dec(m.message?.payload ?? new Uint8Array()));
            await q.ack({ namespace: 'fl-jobs', queue, receipts: [m.receipt] });
          }
        }
        expect(got).toEqual(['high-1', 'high-2', 'mid-1', 'low-1', 'low-2']);
        expect(await redis.zCard(`fl-jobs:\u0000q\u0000r\u0000${queue}`)).toBe(0);
      });

      it('Stream retention on Redis: TrimStream reports what it removed, as XLEN shows', async () => {
        const t = transport();
        const stream = `audit-${door === 'gRPC' ? 'a' : 'b'}`;
        const s = createClient(StreamBasicInterface, t);
        const r = createClient(StreamRetentionInterface, t);
        for (let i = 0; i < 10; i++) await s.append({ namespace: 'fl-log', stream, payload: enc(`${i}`) });
        const key = `fl-log:\u0000s\u0000${stream}`;
        expect(await redis.xLen(key)).toBe(10);
        const trimmed = await r.trimStream({ namespace: 'fl-log', stream, keepLast: 3n });
        expect([trimmed.removed, trimmed.remaining]).toEqual([7n, 3n]);
        expect(await redis.xLen(key)).toBe(3);
        await r.setRetention({ namespace: 'fl-log', stream, policy: { maxRecords: 5n } });
        for (let i = 10; i < 20; i++) await s.append({ namespace: 'fl-log', stream, payload: enc(`${i}`) });
        expect(await redis.xLen(key)).toBe(5);
        expect((await r.getRetention({ namespace: 'fl-log', stream })).policy?.maxRecords).toBe(5n);
      });

      it('Stream partitioning on Kafka: keyed appends spread over 8 real partitions, each key on one', async () => {
        const t = transport();
        const stream = `orders-${door === 'gRPC' ? 'a' : 'b'}`;
        const sp = createClient(StreamPartitioningInterface, t);
        const created = await sp.createPartitionedStream({ namespace: 'fl-keyed', stream, partitions: 8 });
        expect(created.partitionCount).toBe(8);
        const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
        const partitionOf = new Map<string, number>();
        for (const key of keys)
          for (let i = 0; i < 2; i++) {
            const res = await sp.appendPartitioned({
              namespace: 'fl-keyed',
              stream,
              route: { case: 'key', value: enc(key) },
              payload: enc(`${key}#${i}`),
            });
            if (i === 1) expect(res.partition).toBe(partitionOf.get(key));
            partitionOf.set(key, res.partition);
          }
        // In the broker itself: the topic has 8 partitions, and the 80 records sit on several of them.
        const bootstrap = testServerUrl('kafka').replace(/^kafka:\/\//, '');
        const topic = (await listKafkaTopics(bootstrap)).find(
          (n) => n.includes('fl-keyed') && n.endsWith(stream),
        );
        expect(topic).toBeDefined();
        const ends = await kafkaPartitionEndOffsets(bootstrap, topic as string);
        expect(ends.size).toBe(8);
        expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(80);
        expect([...ends.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(4);
        // Read back one key's partition: its two records, in order.
        const [key, partition] = [keys[0] as string, partitionOf.get(keys[0] as string) as number];
        const got: string[] = [];
        for await (const r of sp.readPartition({ namespace: 'fl-keyed', stream, partition, maxRecords: 100 }))
          got.push(dec(r.message?.payload ?? new Uint8Array()));
        expect(got.filter((p) => p.startsWith(`${key}#`))).toEqual([`${key}#0`, `${key}#1`]);
      });
    });
  }
});
