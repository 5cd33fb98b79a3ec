import { PubSubPersistentInterface } from '@prism/proto/prism/pubsub/v1/pubsub_persistent_pb';
import {
  checkAtMost,
  checkMemberName,
  checkMillis,
  checkOutgoing,
  checkTokens,
  checkTopic,
  MESSAGING_BOUNDS,
} from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/pubsub/v1/pubsub_persistent_pb';

/** The pubsub_persistent flavour (at-least-once): durable subscriptions with Ack. */
export const PubSubPersistent = defineInterface(
  'pubsub_persistent',
  PubSubPersistentInterface,
  { publishPersistent: 'write', subscribeDurable: 'read', ack: 'write', deleteSubscription: 'write' },
  {
    publishPersistent: (req, limits) => {
      checkTopic(req.topic);
      checkOutgoing(req, limits);
    },
    subscribeDurable: (req) => {
      checkTopic(req.topic);
      checkMemberName(req.subscription, 'subscription');
      checkMillis(req.ackWaitMs, 'ack_wait_ms', MESSAGING_BOUNDS.maxTimeoutMs);
      checkAtMost(req.maxInFlight, 'max_in_flight', MESSAGING_BOUNDS.maxInFlight);
    },
    ack: (req) => {
      checkTopic(req.topic);
      checkMemberName(req.subscription, 'subscription');
      checkTokens(req.ackIds, 'ack_ids');
    },
    deleteSubscription: (req) => {
      checkTopic(req.topic);
      checkMemberName(req.subscription, 'subscription');
    },
  },
);

/** What an adapter implements for pubsub_persistent. */
export type PubSubPersistentImpl = InterfaceImpl<typeof PubSubPersistentInterface>;
