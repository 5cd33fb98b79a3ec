// pubsub_ordering in the broker, checked with independent librdkafka clients and Kafka's own tools (not
// through the adapter): an ordered topic is `<prefix>.<ns>..ordered.<topic>` with `ordering_partitions`
// partitions, every record carries its ordering key as the record key, and one key's records sit on one
// partition (murmur2), in publish order, while the keys spread over the partitions.
import { create } from '@bufbuild/protobuf';
import rdkafka from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { utf8 } from '@prism/pubsub-basic/conformance';
import { PublishOrderedRequestSchema, PubSubOrdering } from '@prism/pubsub-ordering';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { partitionForKey } from '@prism/stream-partitioning';
import { testServerUrl } from '@prism/testing';
import { bootstrap, readTopic } from './broker.test-util.js';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

/** Partition count of `topic` as the broker reports it (0 when it does not exist), via an independent client. */
async function partitionCount(topic: string): Promise<number> {
  const producer = new rdkafka.Producer({ 'bootstrap.servers': bootstrap() } as never);
  await new Promise<void>((resolve, reject) =>
    producer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  try {
    const meta = await new Promise<rdkafka.Metadata>((resolve, reject) =>
      producer.getMetadata({ topic, timeout: 10_000 }, (err, m) => (err ? reject(err) : resolve(m))),
    );
    return meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

describe('kafka pubsub_ordering records in the broker', () => {
  let handle: PluginHandle;
  const namespace = `kafka-order-${Date.now().toString(36)}`;
  const keys = Array.from({ length: 32 }, (_, i) => `customer-${i}`);

  beforeAll(async () => {
    handle = await instantiatePlugin(plugin, { brokers: [testServerUrl('kafka')] }, { namespace });
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('puts each key on its murmur2 partition of an 8-partition topic, as record key, in publish order', async () => {
    const impl = handle.get(PubSubOrdering)!;
    const ids = new Map<string, string[]>();
    for (let round = 0; round < 5; round++)
      for (const key of keys) {
        const res = await impl.publishOrdered(
          create(PublishOrderedRequestSchema, {
            namespace,
            topic: 'orders',
            orderingKey: key,
            payload: utf8(`${key}#${round}`),
            metadata: { round: String(round) },
          }),
          ctx,
        );
        ids.set(key, [...(ids.get(key) ?? []), res.messageId ?? '']);
      }
    const topic = `prism.${namespace}..ordered.orders`;
    expect(await partitionCount(topic)).toBe(8);
    const records = await readTopic(topic, 8, keys.length * 5);
    expect(records).toHaveLength(keys.length * 5);
    expect(new Set(records.map((m) => m.partition)).size).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      // Consumed per partition in log order: a key's records are on one partition, in publish order.
      const mine = records.filter((m) => String(m.key) === key);
      expect(mine.map((m) => m.value?.toString())).toEqual([0, 1, 2, 3, 4].map((r) => `${key}#${r}`));
      expect(new Set(mine.map((m) => m.partition))).toEqual(new Set([partitionForKey(utf8(key), 8)]));
      expect(mine.map((m) => `${m.partition}-${m.offset}`)).toEqual(ids.get(key));
      // Metadata are the headers, exactly as published: the key is not added to them.
      expect(mine.map((m) => m.headers?.flatMap((h) => Object.keys(h)))).toEqual(Array(5).fill(['round']));
    }
    // The pubsub_basic topic of the same name was never created.
    expect(await partitionCount(`prism.${namespace}.orders`)).toBe(0);
  });
});
