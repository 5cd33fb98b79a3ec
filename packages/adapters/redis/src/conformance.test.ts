import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Every declared interface's suite against the real redis-server the jest global setup started, and
// UNIMPLEMENTED through the proxy for the rest.
describeBackendConformance('redis', { plugin, config: { url: testServerUrl('redis') } });
