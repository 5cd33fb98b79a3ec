import { withTestServers } from '@prism/testing/jest-config';
import preset from '../../../jest.preset.mjs';

// One real PostgreSQL for the whole run (PRISM_TEST_PG_URL); every suite creates its own database.
export default withTestServers({ ...preset, testTimeout: 60000 }, ['postgres']);
