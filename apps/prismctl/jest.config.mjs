import preset from '../../jest.preset.mjs';
// The scaffold test runs tsc and a child jest on a generated package: give it time.
export default { ...preset, testTimeout: 180_000 };
