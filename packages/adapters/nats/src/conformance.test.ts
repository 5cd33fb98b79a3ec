// Pub/sub conformance suites against the run-wide real nats-server -js.
import { describePubSubBasicConformance } from '@prism/pubsub-basic/conformance';
import { describePubSubPersistentConformance } from '@prism/pubsub-persistent/conformance';
import { describePubSubWildcardsConformance } from '@prism/pubsub-wildcards/conformance';
import { natsFactory } from './factory.test-util.js';

describePubSubBasicConformance('nats', natsFactory);
describePubSubWildcardsConformance('nats', natsFactory);
describePubSubPersistentConformance('nats', natsFactory);
