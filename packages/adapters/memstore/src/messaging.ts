// The messaging side of MemStore (pub/sub and queues), kept apart from the key/value store: one broker
// and one queue set per namespace instance, both in process memory and gone on close.
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import { type Binding, implement, type PluginContext } from '@prism/sdk';
import { MemBroker, memPubSub, memPubSubWildcards } from './pubsub.js';
import { MemQueues, memQueue, memQueueDeadLetter, memQueueDelayed, memQueueVisibility } from './queue.js';

/** Messaging interfaces MemStore implements; spread into the plugin's `interfaces`. */
export const MESSAGING_INTERFACES = [
  PubSubBasic,
  PubSubWildcards,
  QueueBasic,
  QueueVisibility,
  QueueDeadLetter,
  QueueDelayed,
] as const;

/** Messaging state of one MemStore instance. */
export interface MemMessaging {
  readonly bindings: readonly Binding[];
  /** Health details: open subscriptions and queued messages. */
  readonly details: () => Record<string, string>;
  readonly close: () => void;
}

/** Creates the messaging bindings of one namespace instance. */
export function createMessaging(ctx: Pick<PluginContext, 'metrics'>): MemMessaging {
  const broker = new MemBroker();
  const queues = new MemQueues();
  return {
    bindings: [
      implement(PubSubBasic, memPubSub(broker, ctx.metrics)),
      implement(PubSubWildcards, memPubSubWildcards(broker, ctx.metrics)),
      implement(QueueBasic, memQueue(queues)),
      implement(QueueVisibility, memQueueVisibility(queues)),
      implement(QueueDeadLetter, memQueueDeadLetter(queues)),
      implement(QueueDelayed, memQueueDelayed(queues)),
    ],
    details: () => ({ subscriptions: String(broker.subscriptions), queued_messages: String(queues.size) }),
    close: () => {
      broker.close();
      queues.close();
    },
  };
}
