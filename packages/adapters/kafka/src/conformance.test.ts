// Every declared interface's conformance suite against a real Apache Kafka 4.x broker (KRaft).
import { afterAll, beforeAll } from '@jest/globals';
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { instantiatePlugin } from '@prism/sdk';
import { type KafkaTestServer, startKafka } from '@prism/testing';
import plugin from './index.js';

let kafka: KafkaTestServer;
beforeAll(async () => {
  kafka = await startKafka();
}, 180_000);
afterAll(async () => {
  await kafka?.dispose();
}, 60_000);

const factory = (opts: Parameters<typeof instantiatePlugin>[2]) =>
  instantiatePlugin(plugin, { brokers: [kafka.bootstrap] }, opts);

describePubSubBasicConformance('kafka', factory, { deadlineMs: 30_000 });
