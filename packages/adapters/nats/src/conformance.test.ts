// Every declared interface's conformance suite against the run-wide real nats-server -js.
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { instantiatePlugin } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

const factory = (opts: Parameters<typeof instantiatePlugin>[2]) =>
  instantiatePlugin(plugin, { servers: [testServerUrl('nats')], ack_wait_ms: 5_000 }, opts);

describePubSubBasicConformance('nats', factory);
