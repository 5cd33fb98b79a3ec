import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describePubSubPersistentConformance } from '@prism/pubsub-persistent/conformance';
import { describePubSubWildcardsConformance } from '@prism/pubsub-wildcards/conformance';
import { describeQueueBasicConformance } from '@prism/queue-basic/conformance';
import { describeQueueDeadLetterConformance } from '@prism/queue-dead-letter/conformance';
import { describeQueueDelayedConformance } from '@prism/queue-delayed/conformance';
import { describeQueueVisibilityConformance } from '@prism/queue-visibility/conformance';
import { type InstantiateOptions, instantiatePlugin } from '@prism/sdk';
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { describeStreamConsumerGroupsConformance } from '@prism/stream-consumer-groups/conformance';
import { describeStreamReplayConformance } from '@prism/stream-replay/conformance';
import plugin from './index.js';

const factory = (opts: InstantiateOptions) => instantiatePlugin(plugin, {}, opts);
// MemStore keeps nothing across instances, so the restart tests are off (`durable: false`).
const inMemory = { durable: false };

describePubSubBasicConformance('memstore', factory);
describePubSubWildcardsConformance('memstore', factory);
describeQueueBasicConformance('memstore', factory, inMemory);
describeQueueVisibilityConformance('memstore', factory);
describeQueueDeadLetterConformance('memstore', factory);
describeQueueDelayedConformance('memstore', factory);

describePubSubPersistentConformance('memstore', factory, inMemory);
describeStreamBasicConformance('memstore', factory, inMemory);
describeStreamConsumerGroupsConformance('memstore', factory, inMemory);
describeStreamReplayConformance('memstore', factory);
