import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every graph suite against the real Gremlin Server the jest global setup started (read-only source `gro`
// from its init script), and UNIMPLEMENTED through the proxy for the rest.
describeBackendConformance('gremlin', {
  plugin,
  config: { url: testServerUrl('gremlin'), read_only_traversal_source: 'gro' },
});
