import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every declared interface's suite against the run-wide real nats-server -js, and UNIMPLEMENTED through
// the proxy for the rest. A short ack wait keeps the redelivery cases quick.
describeBackendConformance('nats', {
  plugin,
  config: { servers: [testServerUrl('nats')], ack_wait_ms: 5_000 },
});
