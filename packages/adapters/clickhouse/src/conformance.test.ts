import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every declared interface's suite against the real clickhouse-server the jest global setup started, and
// UNIMPLEMENTED through the proxy for the rest.
describeBackendConformance('clickhouse', {
  plugin,
  config: { url: testServerUrl('clickhouse'), retention_check_interval_ms: 5000 },
});
