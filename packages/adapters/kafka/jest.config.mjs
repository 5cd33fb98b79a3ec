import preset from '../../../jest.preset.mjs';

// Kafka starts slowly and rebalances take seconds: generous timeouts.
export default { ...preset, testTimeout: 120_000 };
