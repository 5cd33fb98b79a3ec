import { withTestServers } from '@prism/testing/jest-config';
import preset from '../../../jest.preset.mjs';

// One real Kafka broker for the whole run (PRISM_TEST_KAFKA_URL); it starts slowly and group rebalances
// take seconds, hence the generous timeout.
export default withTestServers({ ...preset, testTimeout: 120_000 }, ['kafka']);
