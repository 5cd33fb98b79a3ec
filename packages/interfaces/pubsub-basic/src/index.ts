import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';
import { checkOutgoing, checkTopic } from './messaging.js';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
export * from './messaging.js';

/** The pubsub_basic flavour (at-most-once): Publish, Subscribe (server stream; cancel to unsubscribe). */
export const PubSubBasic = defineInterface(
  'pubsub_basic',
  PubSubBasicInterface,
  { publish: 'write', subscribe: 'read' },
  {
    publish: (req, limits) => {
      checkTopic(req.topic);
      checkOutgoing(req, limits);
    },
    subscribe: (req) => checkTopic(req.topic),
  },
);

/** What an adapter implements for pubsub_basic. */
export type PubSubBasicImpl = InterfaceImpl<typeof PubSubBasicInterface>;
