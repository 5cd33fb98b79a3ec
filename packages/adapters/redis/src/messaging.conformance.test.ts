// Messaging conformance suites (pub/sub, streams, consumer groups) against the run-wide real redis-server.
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describePubSubWildcardsConformance } from '@prism/pubsub-wildcards/conformance';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { describeStreamConsumerGroupsConformance } from '@prism/stream-consumer-groups/conformance';
import { describeStreamReplayConformance } from '@prism/stream-replay/conformance';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

const factory: PluginFactory = (opts) => instantiatePlugin(plugin, { url: testServerUrl('redis') }, opts);

describePubSubBasicConformance('redis', factory);
describePubSubWildcardsConformance('redis', factory);
describeStreamBasicConformance('redis', factory);
describeStreamReplayConformance('redis', factory);
describeStreamConsumerGroupsConformance('redis', factory);
