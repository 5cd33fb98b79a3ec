import { create } from '@bufbuild/protobuf';
import { QueuePriorityInterface } from '@prism/proto/prism/queue/v1/queue_priority_pb';
import { EnqueueRequestSchema, QueueBasic } from '@prism/queue-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/queue/v1/queue_priority_pb';

/** Priorities are 0..MAX_PRIORITY; the highest number is received first. 0 is queue_basic's Enqueue. */
export const MAX_PRIORITY = 9;

/** Number of priority levels (0..{@link MAX_PRIORITY}). */
export const PRIORITY_LEVELS = MAX_PRIORITY + 1;

/** Throws INVALID_ARGUMENT unless `priority` is 0..{@link MAX_PRIORITY}. */
export function checkPriority(priority: number, field = 'priority'): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY)
    throw invalidArgument(
      `${field} is ${priority}; use 0..${MAX_PRIORITY} (${MAX_PRIORITY} is the highest, 0 the lowest and the default)`,
    );
}

/**
 * The queue_priority flavour: EnqueueWithPriority (0..9, 9 highest) into the queues of queue_basic.
 * Strict between levels, FIFO within a level; receiving and acking are queue_basic's.
 */
export const QueuePriority = defineInterface(
  'queue_priority',
  QueuePriorityInterface,
  { enqueueWithPriority: 'write' },
  {
    enqueueWithPriority: (req, limits) => {
      // Same queue name, payload and metadata rules as queue_basic's Enqueue (one definition of them).
      QueueBasic.validate.enqueue?.(
        create(EnqueueRequestSchema, { queue: req.queue, payload: req.payload, metadata: req.metadata }),
        limits,
      );
      checkPriority(req.priority);
    },
  },
);

/** What an adapter implements for queue_priority. */
export type QueuePriorityImpl = InterfaceImpl<typeof QueuePriorityInterface>;
