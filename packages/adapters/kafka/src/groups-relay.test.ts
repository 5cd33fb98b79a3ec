// Acks through another instance (proxy replica) travel through the namespace's internal topic
// `<prefix>.<ns>..acks`, checked in the broker with independent librdkafka clients (not through the adapter):
// the relayed record names the group (record key) and the ack ids, and the member's instance commits them,
// so the group's committed offset in Kafka moves past the acked record.
import rdkafka from '@confluentinc/kafka-javascript';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pollUntil, utf8 } from '@prism/pubsub-basic/conformance';
import { instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { streamClient } from '@prism/stream-basic/conformance';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { groupClient } from '@prism/stream-consumer-groups/conformance';
import { testServerUrl } from '@prism/testing';
import { bootstrap, readTopic } from './broker.test-util.js';
import plugin from './index.js';

const config = () => ({ brokers: [testServerUrl('kafka')], min_session_timeout_ms: 1000 });

/** The group's committed offset of partition 0 of `topic` (-1: none), via an independent admin client. */
async function committed(groupId: string, topic: string): Promise<number> {
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': bootstrap() });
  try {
    const res = await new Promise<{ partitions: { partition: number; offset: number }[] }[]>(
      (resolve, reject) =>
        admin.listConsumerGroupOffsets(
          [{ groupId, partitions: [{ topic, partition: 0 }] }],
          { timeout: 10_000 },
          (err, r) => (err ? reject(err) : resolve(r as never)),
        ),
    );
    return res[0]?.partitions[0]?.offset ?? -1;
  } finally {
    admin.disconnect();
  }
}

describe('kafka acks relayed between instances', () => {
  const namespace = `kafka-relay-${Date.now().toString(36)}`;
  let a: PluginHandle;
  let b: PluginHandle;

  beforeAll(async () => {
    a = await instantiatePlugin(plugin, config(), { namespace });
    b = await instantiatePlugin(plugin, config(), { namespace });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('publishes a foreign ack to <prefix>.<ns>..acks and the member instance commits it', async () => {
    const s = streamClient(a.get(StreamBasic)!, namespace);
    for (let i = 0; i < 3; i++) await s.append('jobs', utf8(`j${i}`));
    const m = groupClient(a.get(StreamConsumerGroups)!, namespace).member('jobs', 'workers', 'c1', {
      maxInFlight: 1,
    });
    try {
      await m.stream.atLeast(1, 'the first record', 30_000);
      const first = m.records[0]!.ackId;
      await groupClient(b.get(StreamConsumerGroups)!, namespace).ack('jobs', 'workers', [first]);
      const groupId = `prism.${namespace}.jobs.workers`;
      const [relayed] = await readTopic(`prism.${namespace}..acks`, 1, 1);
      expect(String(relayed!.key)).toBe(groupId);
      expect(String(relayed!.value)).toBe(first);
      // The member's instance committed past the record acked on the other instance, and got the next one.
      await pollUntil(
        'the commit of offset 1',
        async () => (await committed(groupId, `prism.${namespace}.jobs`)) === 1,
        30_000,
        100,
      );
      await m.stream.atLeast(2, 'the second record', 30_000);
    } finally {
      await m.cancel(30_000);
    }
  });
});
