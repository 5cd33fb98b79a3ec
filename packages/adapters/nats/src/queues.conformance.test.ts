// Queue conformance suites against the run-wide real nats-server -js.
import { describeQueueBasicConformance } from '@prism/queue-basic/conformance';
import { describeQueueDeadLetterConformance } from '@prism/queue-dead-letter/conformance';
import { describeQueueDelayedConformance } from '@prism/queue-delayed/conformance';
import { describeQueueVisibilityConformance } from '@prism/queue-visibility/conformance';
import { natsFactory } from './factory.test-util.js';

describeQueueBasicConformance('nats', natsFactory);
describeQueueVisibilityConformance('nats', natsFactory);
describeQueueDeadLetterConformance('nats', natsFactory);
describeQueueDelayedConformance('nats', natsFactory);
