import { QueueBasicInterface } from '@prism/proto/prism/queue/v1/queue_basic_pb';
import {
  checkAtMost,
  checkMillis,
  checkOutgoing,
  checkTokens,
  checkTopic,
  MESSAGING_BOUNDS,
} from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/queue/v1/queue_basic_pb';

/** The queue_basic flavour (at-least-once): Enqueue, Receive (unary long-poll), Ack. */
export const QueueBasic = defineInterface(
  'queue_basic',
  QueueBasicInterface,
  { enqueue: 'write', receive: 'read', ack: 'write' },
  {
    enqueue: (req, limits) => {
      checkTopic(req.queue, 'queue');
      checkOutgoing(req, limits);
    },
    receive: (req) => {
      checkTopic(req.queue, 'queue');
      checkAtMost(req.maxMessages, 'max_messages', MESSAGING_BOUNDS.maxReceiveMessages);
      checkMillis(req.waitMs, 'wait_ms', MESSAGING_BOUNDS.maxWaitMs);
      checkMillis(req.visibilityTimeoutMs, 'visibility_timeout_ms', MESSAGING_BOUNDS.maxTimeoutMs);
    },
    ack: (req) => {
      checkTopic(req.queue, 'queue');
      checkTokens(req.receipts, 'receipts');
    },
  },
);

/** What an adapter implements for queue_basic. */
export type QueueBasicImpl = InterfaceImpl<typeof QueueBasicInterface>;
