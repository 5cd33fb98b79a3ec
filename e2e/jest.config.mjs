import { withTestServers } from '@prism/testing/jest-config';
import preset from '../jest.preset.mjs';

// PRISM_E2E_SERVERS=none: no backend servers, for tests that need none run alone (the container test in
// .github/workflows/container.yml, which installs no database servers).
const servers =
  process.env.PRISM_E2E_SERVERS === 'none'
    ? []
    : ['redis', 'postgres', 'nats', 'kafka', 'clickhouse', 'gremlin'];

export default withTestServers({ ...preset, testTimeout: 60000 }, servers);
