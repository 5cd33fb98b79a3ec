// Shared jest settings: ESM TypeScript compiled by SWC, workspace packages resolved to their sources
// through the "@prism/source" export condition (no build needed to run tests).
export default {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['@prism/source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022', keepClassNames: true },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  // A backend client that a failed test left open must not keep CI waiting forever: exit once the run is done
  // (global teardown still stops every server the harness started).
  forceExit: true,
};
