import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every declared interface's suite, and UNIMPLEMENTED through the proxy for the rest. A short sweep
// interval so background expiry is exercised too, not only expiry on read. MemStore keeps nothing across
// instances, so the messaging suites' restart tests are off (`durable: false`).
describeBackendConformance('memstore', {
  plugin,
  config: { sweep_interval_ms: 50 },
  messaging: { durable: false },
});
