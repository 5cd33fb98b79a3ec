import { PubSubWildcardsInterface } from '@prism/proto/prism/pubsub/v1/pubsub_wildcards_pb';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';
import { checkPattern } from './pattern.js';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/pubsub/v1/pubsub_wildcards_pb';
export * from './pattern.js';

/** The pubsub_wildcards flavour (at-most-once): SubscribePattern with `*` / `>` tokens. */
export const PubSubWildcards = defineInterface(
  'pubsub_wildcards',
  PubSubWildcardsInterface,
  { subscribePattern: 'read' },
  {
    subscribePattern: (req) => checkPattern(req.pattern),
  },
);

/** What an adapter implements for pubsub_wildcards. */
export type PubSubWildcardsImpl = InterfaceImpl<typeof PubSubWildcardsInterface>;
