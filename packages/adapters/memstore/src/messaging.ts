// The messaging side of MemStore (pub/sub, durable pub/sub, streams, queues), kept apart from the key/value
// store: per namespace instance, all in process memory and gone on close.
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubFiltering } from '@prism/pubsub-filtering';
import { PubSubOrdering } from '@prism/pubsub-ordering';
import { PubSubPersistent } from '@prism/pubsub-persistent';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueuePriority } from '@prism/queue-priority';
import { QueueVisibility } from '@prism/queue-visibility';
import { type Binding, implement, type PluginContext } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamPartitioning } from '@prism/stream-partitioning';
import { StreamReplay } from '@prism/stream-replay';
import { StreamRetention } from '@prism/stream-retention';
import { MemLogs, Notifier } from './log.js';
import { memPersistent } from './persistent.js';
import { MemBroker, memPubSub, memPubSubWildcards } from './pubsub.js';
import { memPubSubFiltering } from './pubsub-filtering.js';
import { MemOrderedBroker, memPubSubOrdering } from './pubsub-ordering.js';
import {
  MemQueues,
  memQueue,
  memQueueDeadLetter,
  memQueueDelayed,
  memQueuePriority,
  memQueueVisibility,
} from './queue.js';
import { memStream, memStreamGroups, memStreamReplay } from './stream.js';
import { MemPartitions, memStreamPartitioning } from './stream-partitioning.js';
import { memStreamRetention } from './stream-retention.js';

/** Messaging interfaces MemStore implements; spread into the plugin's `interfaces`. */
export const MESSAGING_INTERFACES = [
  PubSubBasic,
  PubSubWildcards,
  PubSubPersistent,
  PubSubOrdering,
  PubSubFiltering,
  StreamBasic,
  StreamConsumerGroups,
  StreamReplay,
  StreamRetention,
  StreamPartitioning,
  QueueBasic,
  QueueVisibility,
  QueueDeadLetter,
  QueueDelayed,
  QueuePriority,
] as const;

/** Messaging state of one MemStore instance. */
export interface MemMessaging {
  readonly bindings: readonly Binding[];
  readonly close: () => void;
}

/** Creates the messaging bindings of one namespace instance. */
export function createMessaging(ctx: Pick<PluginContext, 'metrics'>): MemMessaging {
  const broker = new MemBroker();
  const ordered = new MemOrderedBroker();
  const queues = new MemQueues();
  const notifier = new Notifier();
  const streams = new MemLogs(notifier);
  const topics = new MemLogs(notifier);
  return {
    bindings: [
      implement(PubSubBasic, memPubSub(broker, ctx.metrics)),
      implement(PubSubWildcards, memPubSubWildcards(broker, ctx.metrics)),
      implement(PubSubPersistent, memPersistent(topics)),
      implement(PubSubOrdering, memPubSubOrdering(ordered, ctx.metrics)),
      implement(PubSubFiltering, memPubSubFiltering(broker, ctx.metrics)),
      implement(StreamBasic, memStream(streams)),
      implement(StreamConsumerGroups, memStreamGroups(streams)),
      implement(StreamReplay, memStreamReplay(streams)),
      implement(StreamRetention, memStreamRetention(streams)),
      implement(StreamPartitioning, memStreamPartitioning(new MemPartitions(streams))),
      implement(QueueBasic, memQueue(queues)),
      implement(QueueVisibility, memQueueVisibility(queues)),
      implement(QueueDeadLetter, memQueueDeadLetter(queues)),
      implement(QueueDelayed, memQueueDelayed(queues)),
      implement(QueuePriority, memQueuePriority(queues)),
    ],
    close: () => {
      broker.close();
      ordered.close();
      queues.close();
      notifier.close();
    },
  };
}
