// Jest globalSetup entry (see jest-config.mjs): starts the run-wide servers.
require('./jest-hook.cjs');
module.exports = require('./src/jest/global-setup.ts').default;
