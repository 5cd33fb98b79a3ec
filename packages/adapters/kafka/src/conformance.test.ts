// Every declared interface's conformance suite against the run-wide real Apache Kafka 4.x broker (KRaft).
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describePubSubPersistentConformance } from '@prism/pubsub-persistent/conformance';
import { instantiatePlugin } from '@prism/sdk';
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { describeStreamConsumerGroupsConformance } from '@prism/stream-consumer-groups/conformance';
import { describeStreamReplayConformance } from '@prism/stream-replay/conformance';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

const factory = (opts: Parameters<typeof instantiatePlugin>[2]) =>
  // The test broker allows 1 s sessions, so a dead member's partitions move quickly.
  instantiatePlugin(plugin, { brokers: [testServerUrl('kafka')], min_session_timeout_ms: 1000 }, opts);

// Kafka group joins and rebalances take a few seconds.
const options = { deadlineMs: 30_000 };
describePubSubBasicConformance('kafka', factory, options);
describePubSubPersistentConformance('kafka', factory, options);
describeStreamBasicConformance('kafka', factory, options);
describeStreamReplayConformance('kafka', factory, options);
describeStreamConsumerGroupsConformance('kafka', factory, options);
