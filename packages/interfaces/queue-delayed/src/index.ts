import { QueueDelayedInterface } from '@prism/proto/prism/queue/v1/queue_delayed_pb';
import { checkMillis, checkOutgoing, checkTopic, MESSAGING_BOUNDS } from '@prism/pubsub-basic';
import { defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/common/v1/message_pb';
export * from '@prism/proto/prism/queue/v1/queue_delayed_pb';

/** The queue_delayed flavour: EnqueueDelayed, never delivered before its time. */
export const QueueDelayed = defineInterface(
  'queue_delayed',
  QueueDelayedInterface,
  { enqueueDelayed: 'write' },
  {
    enqueueDelayed: (req, limits) => {
      checkTopic(req.queue, 'queue');
      checkOutgoing(req, limits);
      switch (req.when.case) {
        case 'delayMs':
          checkMillis(req.when.value, 'delay_ms', MESSAGING_BOUNDS.maxDelayMs, false);
          return;
        case 'deliverAtMs':
          if (Number(req.when.value) > Date.now() + MESSAGING_BOUNDS.maxDelayMs)
            throw invalidArgument(`deliver_at_ms is more than ${MESSAGING_BOUNDS.maxDelayMs} ms ahead`);
          return;
        default:
          throw invalidArgument('set exactly one of delay_ms or deliver_at_ms');
      }
    },
  },
);

/** Resolves the absolute delivery time of a (validated) request, in epoch milliseconds. */
export function deliverAtMs(
  when: { case: 'delayMs' | 'deliverAtMs'; value: bigint } | { case: undefined },
  now = Date.now(),
): number {
  if (when.case === 'delayMs') return now + Number(when.value);
  if (when.case === 'deliverAtMs') return Math.max(now, Number(when.value));
  return now;
}

/** What an adapter implements for queue_delayed. */
export type QueueDelayedImpl = InterfaceImpl<typeof QueueDelayedInterface>;
