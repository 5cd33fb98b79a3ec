import preset from '../../jest.preset.mjs';
import { withTestServers } from './jest-config.mjs';

// The package tests its own jest glue: one server of each kind for the whole run.
export default withTestServers({ ...preset, testTimeout: 90_000 }, ['redis', 'postgres', 'nats']);
