// The messaging side of MemStore (pub/sub, durable pub/sub, streams, queues), kept apart from the key/value
// store: per namespace instance, all in process memory and gone on close.
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import { type Binding, implement, type PluginContext } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';
import { MemLogs, Notifier } from './log.js';
import { memPersistent } from './persistent.js';
import { MemBroker, memPubSub, memPubSubWildcards } from './pubsub.js';
import { MemQueues, memQueue, memQueueDeadLetter, memQueueDelayed, memQueueVisibility } from './queue.js';
import { memStream, memStreamGroups, memStreamReplay } from './stream.js';

/** Messaging interfaces MemStore implements; spread into the plugin's `interfaces`. */
export const MESSAGING_INTERFACES = [
  PubSubBasic,
  PubSubWildcards,
  PubSubPersistent,
  StreamBasic,
  StreamConsumerGroups,
  StreamReplay,
  QueueBasic,
  QueueVisibility,
  QueueDeadLetter,
  QueueDelayed,
] as const;

/** Messaging state of one MemStore instance. */
export interface MemMessaging {
  readonly bindings: readonly Binding[];
  readonly close: () => void;
}

/** Creates the messaging bindings of one namespace instance. */
export function createMessaging(ctx: Pick<PluginContext, 'metrics'>): MemMessaging {
  const broker = new MemBroker();
  const queues = new MemQueues();
  const notifier = new Notifier();
  const streams = new MemLogs(notifier);
  const topics = new MemLogs(notifier);
  return {
    bindings: [
      implement(PubSubBasic, memPubSub(broker, ctx.metrics)),
      implement(PubSubWildcards, memPubSubWildcards(broker, ctx.metrics)),
      implement(PubSubPersistent, memPersistent(topics)),
      implement(StreamBasic, memStream(streams)),
      implement(StreamConsumerGroups, memStreamGroups(streams)),
      implement(StreamReplay, memStreamReplay(streams)),
      implement(QueueBasic, memQueue(queues)),
      implement(QueueVisibility, memQueueVisibility(queues)),
      implement(QueueDeadLetter, memQueueDeadLetter(queues)),
      implement(QueueDelayed, memQueueDelayed(queues)),
    ],
    close: () => {
      broker.close();
      queues.close();
      notifier.close();
    },
  };
}
