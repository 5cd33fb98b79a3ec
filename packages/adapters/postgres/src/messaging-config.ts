import { z } from '@prism/sdk';
import { PostgresConfig } from './config.js';
import { MODEL_CONFIG_FIELDS } from './model-config.js';

/** `backend.config` fields of the messaging interfaces (queues, pub/sub); the rest is {@link PostgresConfig}. */
export const MESSAGING_CONFIG_FIELDS = {
  /**
   * Longest pause between two polls of a waiting Receive (wait_ms > 0). Enqueues wake waiters at once
   * through LISTEN/NOTIFY; polling covers what sends no notification (delayed messages coming due,
   * visibility timeouts expiring) and notifications lost during an outage.
   */
  queue_poll_interval_ms: z.number().int().min(10).max(60_000).default(250),
  /** Messages one subscription stream holds for a slow client; newer ones are dropped and counted. */
  subscription_buffer: z.number().int().min(1).max(1_000_000).default(1024),
  /**
   * How long a published message too large for a NOTIFY payload stays in the `pubsub_messages` table
   * for subscribers to fetch; older rows are deleted by the sweeper.
   */
  pubsub_retention_ms: z.number().int().min(1000).max(86_400_000).default(60_000),
};

/** The adapter's whole config schema: connection, key/value and messaging fields. */
export const PostgresPluginConfig = PostgresConfig.safeExtend({
  ...MESSAGING_CONFIG_FIELDS,
  ...MODEL_CONFIG_FIELDS,
});

/** Parsed adapter config including the messaging fields. */
export type PostgresPluginConfig = z.output<typeof PostgresPluginConfig>;
