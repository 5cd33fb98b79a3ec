import { withTestServers } from '@prism/testing/jest-config';
import preset from '../../../jest.preset.mjs';

export default withTestServers({ ...preset, testTimeout: 60_000 }, ['gremlin']);
