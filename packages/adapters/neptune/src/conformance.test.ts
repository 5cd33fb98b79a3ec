import { testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

// Neptune speaks Gremlin: every declared suite against the run's Gremlin Server (plain ws, which ignores the
// signed handshake headers), and UNIMPLEMENTED for the rest, graph_query included.
const url = new URL(testServerUrl('gremlin'));
describeBackendConformance('neptune', {
  plugin,
  config: {
    endpoint: url.hostname,
    port: Number(url.port),
    tls: false,
    region: 'us-east-1',
    access_key_id: 'AKIDEXAMPLE',
    secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  },
});
