// Keyed appends reach real partitions, checked in the broker with independent librdkafka clients (not
// through the adapter): records spread over the partitions of an 8-partition topic, their keys are the
// record keys, and librdkafka's own murmur2 partitioner puts the same keys on the same partitions.
import { create } from '@bufbuild/protobuf';
import rdkafka from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { utf8 } from '@prism/pubsub-basic/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import {
  AppendPartitionedRequestSchema,
  partitionForKey,
  StreamPartitioning,
} from '@prism/stream-partitioning';
import { testServerUrl } from '@prism/testing';
import { bootstrap, readTopic } from './broker.test-util.js';
import plugin from './index.js';

const ctx = { signal: new AbortController().signal };

/** Produces keyed records with librdkafka's murmur2 partitioner choosing the partition; resolves them. */
async function produceWithMurmur2(topic: string, keys: readonly string[]): Promise<Map<string, number>> {
  const producer = new rdkafka.Producer({
    'bootstrap.servers': bootstrap(),
    dr_cb: true,
    partitioner: 'murmur2',
  } as never);
  await new Promise<void>((resolve, reject) =>
    producer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  producer.setPollInterval(5);
  const out = new Map<string, number>();
  try {
    const done = new Promise<void>((resolve, reject) => {
      producer.on('delivery-report', (err, report) => {
        if (err) return reject(err);
        out.set(String(report.key), report.partition);
        if (out.size === keys.length) resolve();
      });
    });
    for (const key of keys) producer.produce(topic, null, Buffer.from('x'), Buffer.from(key));
    await done;
    return out;
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

describe('kafka keyed appends on real partitions', () => {
  let handle: PluginHandle;
  const namespace = `kafka-parts-${Date.now().toString(36)}`;
  const topic = (name: string) => `prism.${namespace}.${name}`;
  const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);

  beforeAll(async () => {
    handle = await instantiatePlugin(
      plugin,
      { brokers: [testServerUrl('kafka')], partitions: 8 },
      { namespace },
    );
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('writes keyed records to several of the 8 partitions, with the key as record key', async () => {
    const impl = handle.get(StreamPartitioning)!;
    const appended = new Map<string, number>();
    for (const key of keys) {
      const res = await impl.appendPartitioned(
        create(AppendPartitionedRequestSchema, {
          namespace,
          stream: 'orders',
          route: { case: 'key', value: utf8(key) },
          payload: utf8(`payload of ${key}`),
        }),
        ctx,
      );
      appended.set(key, res.partition ?? 0);
    }
    const records = await readTopic(topic('orders'), 8, keys.length);
    expect(records).toHaveLength(keys.length);
    const partitions = new Set(records.map((m) => m.partition));
    expect(partitions.size).toBeGreaterThanOrEqual(4);
    for (const m of records) {
      const key = String(m.key);
      expect(m.value?.toString()).toBe(`payload of ${key}`);
      expect(m.partition).toBe(appended.get(key));
      expect(m.partition).toBe(partitionForKey(utf8(key), 8));
    }
  });

  it("agrees with librdkafka's murmur2 partitioner (what Java clients use by default)", async () => {
    const byLibrdkafka = await produceWithMurmur2(topic('orders'), keys);
    for (const key of keys) expect(byLibrdkafka.get(key)).toBe(partitionForKey(utf8(key), 8));
  });

  it('keeps unkeyed stream_basic appends on partition 0 (one ordered log)', async () => {
    const s = streamClient(handle.get(StreamBasic)!, namespace);
    const a = [];
    for (let i = 0; i < 10; i++) a.push(await s.append('basic', utf8(`b${i}`)));
    const records = await readTopic(topic('basic'), 8, 10);
    expect(records.map((m) => m.partition)).toEqual(Array(10).fill(0));
    expect(records.map((m) => BigInt(m.offset))).toEqual(a.map((x) => x.offset));
  });
});
