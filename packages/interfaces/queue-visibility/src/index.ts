import { QueueVisibilityInterface } from '@prism/proto/prism/queue/v1/queue_visibility_pb';
import { checkMillis, checkTokens, checkTopic, MESSAGING_BOUNDS } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/queue/v1/queue_visibility_pb';

/** The queue_visibility flavour: Nack and ExtendVisibility of a received message. */
export const QueueVisibility = defineInterface(
  'queue_visibility',
  QueueVisibilityInterface,
  { nack: 'write', extendVisibility: 'write' },
  {
    nack: (req) => {
      checkTopic(req.queue, 'queue');
      checkTokens([req.receipt], 'receipt');
      checkMillis(req.delayMs, 'delay_ms', MESSAGING_BOUNDS.maxTimeoutMs);
    },
    extendVisibility: (req) => {
      checkTopic(req.queue, 'queue');
      checkTokens([req.receipt], 'receipt');
      checkMillis(req.visibilityTimeoutMs, 'visibility_timeout_ms', MESSAGING_BOUNDS.maxTimeoutMs, false);
    },
  },
);

/** What an adapter implements for queue_visibility. */
export type QueueVisibilityImpl = InterfaceImpl<typeof QueueVisibilityInterface>;
