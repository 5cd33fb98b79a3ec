// Jest globalTeardown entry (see jest-config.mjs): stops the run-wide servers.
require('./jest-hook.cjs');
module.exports = require('./src/jest/global-teardown.ts').default;
