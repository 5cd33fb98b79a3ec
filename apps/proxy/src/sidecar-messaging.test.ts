import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describeQueueBasicConformance } from '@prism/queue-basic/conformance';
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { proxiedFactory } from './test-support.js';

// Server streams (subscriptions, queue and stream reads) through the proxy and a sidecar process.
const memstore = proxiedFactory(() => '{ type: memstore, plugin: { mode: sidecar } }');
const inMemory = { durable: false };
describePubSubBasicConformance('memstore-sidecar', memstore);
describeQueueBasicConformance('memstore-sidecar', memstore, inMemory);
describeStreamBasicConformance('memstore-sidecar', memstore, inMemory);
