import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every declared interface's suite against the run-wide real Apache Kafka 4.x broker (KRaft), and
// UNIMPLEMENTED through the proxy for the rest. The test broker allows 1 s sessions, so a dead member's
// partitions move quickly; group joins and rebalances still take a few seconds.
describeBackendConformance('kafka', {
  plugin,
  config: { brokers: [testServerUrl('kafka')], min_session_timeout_ms: 1000 },
  messaging: { deadlineMs: 30_000 },
});
