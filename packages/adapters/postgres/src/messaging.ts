import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueueVisibility } from '@prism/queue-visibility';
import { type Binding, implement, type PluginContext } from '@prism/sdk';
import type { PgClient } from './client.js';
import { channelName, PgListener } from './listener.js';
import type { PostgresPluginConfig } from './messaging-config.js';
import { PgPubSub } from './pubsub.js';
import { PgQueues, pgQueueBasic, pgQueueDeadLetter, pgQueueDelayed, pgQueueVisibility } from './queue.js';
import { ensureMessagingSchema, messagingTables } from './queue-schema.js';
import { QueueWakeups } from './queue-wakeups.js';

/** The messaging interfaces this adapter implements. */
export const MESSAGING_INTERFACES = [
  QueueBasic,
  QueueVisibility,
  QueueDeadLetter,
  QueueDelayed,
  PubSubBasic,
  PubSubWildcards,
];

/** The messaging part of the adapter: bindings, start-up step, status and close. */
export function messaging(client: PgClient, config: PostgresPluginConfig, ctx: PluginContext) {
  const tables = messagingTables(config.schema);
  const listener = new PgListener(client);
  const wakeups = new QueueWakeups(listener, channelName(config.schema, 'q', client.namespace));
  const queues = new PgQueues(client, tables, wakeups, config.queue_poll_interval_ms);
  const pubsub = new PgPubSub(client, tables, listener, ctx, config.subscription_buffer);
  const bindings: Binding[] = [
    implement(QueueBasic, pgQueueBasic(queues)),
    implement(QueueVisibility, pgQueueVisibility(queues)),
    implement(QueueDeadLetter, pgQueueDeadLetter(queues)),
    implement(QueueDelayed, pgQueueDelayed(queues)),
    implement(PubSubBasic, pubsub.basic()),
    implement(PubSubWildcards, pubsub.wildcards()),
  ];
  return {
    bindings,
    async start() {
      await ensureMessagingSchema(client, tables);
      client.every(config.sweep_interval_ms, 'sweeping stored pub/sub messages', () =>
        pubsub.sweep(config.pubsub_retention_ms),
      );
    },
    /** Figures for health details. */
    status: () => ({
      subscriptions: String(pubsub.subscriptions),
      listening: String(listener.channels.length),
    }),
    /** Ends long-polls and subscriptions, and closes the LISTEN connection (before the pool). */
    async close() {
      queues.close();
      pubsub.close();
      await listener.close();
    },
  };
}
