import preset from '../../../jest.preset.mjs';
import { withTestServers } from '@prism/testing/jest-config';

export default withTestServers(preset, ['nats']);
