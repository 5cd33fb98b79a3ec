import { randomUUID } from 'node:crypto';
import type { KafkaConsumer, Message as KafkaMessage } from '@confluentinc/kafka-javascript';
import type { KafkaBackend } from './client.js';

/**
 * A group-less consumer assigned at the current end of `partitions` of `topic`, handing every later record
 * to `onRecord`: what pubsub_basic and pubsub_ordering share so that all local subscriptions of a topic cost
 * one consumer. Flowing mode: librdkafka delivers each partition's records in log order on one callback.
 */
export async function tailConsumer(
  backend: KafkaBackend,
  topic: string,
  partitions: readonly number[],
  onRecord: (m: KafkaMessage) => void,
): Promise<KafkaConsumer> {
  const highs = await Promise.all(partitions.map((p) => backend.watermarks(topic, p)));
  const consumer = await backend.consumer({
    // Never joins the group (manual assignment); librdkafka just requires an id.
    'group.id': `prism-tail-${randomUUID()}`,
    'auto.offset.reset': 'latest',
    'fetch.wait.max.ms': 100,
  });
  consumer.assign(partitions.map((partition, i) => ({ topic, partition, offset: highs[i]!.highOffset })));
  consumer.consume((err, m) => {
    // In flowing mode the callback gets one record at a time (the typings describe batch mode).
    if (!err && m) onRecord(m as unknown as KafkaMessage);
  });
  return consumer;
}
