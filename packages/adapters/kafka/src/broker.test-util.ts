// Shared by the tests that check effects in the broker itself, with independent librdkafka clients (never
// through the adapter).

import rdkafka, { type Message as KafkaMessage } from '@confluentinc/kafka-javascript';
import { pollUntil } from '@prism/pubsub-basic/conformance';
import { testServerUrl } from '@prism/testing';

/** The run's broker as `host:port`, for librdkafka clients and Kafka's tools. */
export const bootstrap = (): string => testServerUrl('kafka').replace(/^kafka:\/\//, '');

/** Every record of `topic` (partitions 0..n-1), read by an independent group-less consumer. */
export async function readTopic(
  topic: string,
  partitions: number,
  expected: number,
): Promise<KafkaMessage[]> {
  const consumer = new rdkafka.KafkaConsumer(
    { 'bootstrap.servers': bootstrap(), 'group.id': `check-${Date.now()}`, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) =>
    consumer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    consumer.setDefaultConsumeTimeout(200);
    const got: KafkaMessage[] = [];
    await pollUntil(
      `${expected} records in ${topic}`,
      async () => {
        const batch = await new Promise<KafkaMessage[]>((resolve, reject) =>
          consumer.consume(100, (err, ms) => (err ? reject(err) : resolve(ms))),
        );
        got.push(...batch);
        return got.length >= expected;
      },
      30_000,
      10,
    );
    return got;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
