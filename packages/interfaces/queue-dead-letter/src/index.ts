import { QueueDeadLetterInterface } from '@prism/proto/prism/queue/v1/queue_dead_letter_pb';
import { checkAtMost, checkTopic, MESSAGING_BOUNDS } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/queue/v1/queue_dead_letter_pb';

/** Metadata key a dead-lettered message gains: the name of the queue it came from. */
export const DEAD_LETTER_SOURCE_KEY = 'prism-dead-letter-source';

/** The queue_dead_letter flavour: after max_deliveries a message moves to an ordinary dead-letter queue. */
export const QueueDeadLetter = defineInterface(
  'queue_dead_letter',
  QueueDeadLetterInterface,
  { configureDeadLetter: 'admin' },
  {
    configureDeadLetter: (req) => {
      checkTopic(req.queue, 'queue');
      checkAtMost(req.maxDeliveries, 'max_deliveries', MESSAGING_BOUNDS.maxDeliveries);
      if (req.maxDeliveries === 0) return;
      checkTopic(req.deadLetterQueue, 'dead_letter_queue');
      if (req.deadLetterQueue === req.queue)
        throw invalidArgument('dead_letter_queue must differ from queue');
    },
  },
);

/** What an adapter implements for queue_dead_letter. */
export type QueueDeadLetterImpl = InterfaceImpl<typeof QueueDeadLetterInterface>;
