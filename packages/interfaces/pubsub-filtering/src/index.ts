import { PubSubFilteringInterface } from '@prism/proto/prism/pubsub/v1/pubsub_filtering_pb';
import { checkTopic } from '@prism/pubsub-basic';
import { checkFilter, defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/filter_pb';
export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/pubsub/v1/pubsub_filtering_pb';

/**
 * The pubsub_filtering flavour (at-most-once): SubscribeFiltered delivers the messages of a topic whose
 * metadata match a prism.common.v1.Filter, evaluated server-side (use @prism/sdk's compileFilter on
 * `message.metadata`). Publishing is pubsub_basic's Publish.
 */
export const PubSubFiltering = defineInterface(
  'pubsub_filtering',
  PubSubFilteringInterface,
  { subscribeFiltered: 'read' },
  {
    subscribeFiltered: (req) => {
      checkTopic(req.topic);
      checkFilter(req.filter, 'filter');
    },
  },
);

/** What an adapter implements for pubsub_filtering. */
export type PubSubFilteringImpl = InterfaceImpl<typeof PubSubFilteringInterface>;
