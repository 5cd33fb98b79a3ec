import { withTestServers } from '@prism/testing/jest-config';
import preset from '../../jest.preset.mjs';

// The browser tests run Chromium against a proxy with Redis and NATS namespaces (one server each for
// the run); a Chromium page and a sidecar restart take their time.
export default withTestServers({ ...preset, testTimeout: 120_000 }, ['redis', 'nats']);
