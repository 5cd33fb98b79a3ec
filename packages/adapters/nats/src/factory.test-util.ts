// Shared by the conformance test files: instances against the run-wide real nats-server -js.
import { type InstantiateOptions, instantiatePlugin } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

/** Creates adapter instances for the suites (short ack wait keeps redelivery cases quick). */
export const natsFactory = (opts: InstantiateOptions) =>
  instantiatePlugin(plugin, { servers: [testServerUrl('nats')], ack_wait_ms: 5_000 }, opts);
