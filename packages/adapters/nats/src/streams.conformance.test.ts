// Stream conformance suites against the run-wide real nats-server -js.
import { describeStreamBasicConformance } from '@prism/stream-basic/conformance';
import { describeStreamConsumerGroupsConformance } from '@prism/stream-consumer-groups/conformance';
import { describeStreamReplayConformance } from '@prism/stream-replay/conformance';
import { natsFactory } from './factory.test-util.js';

describeStreamBasicConformance('nats', natsFactory);
describeStreamReplayConformance('nats', natsFactory);
describeStreamConsumerGroupsConformance('nats', natsFactory);
