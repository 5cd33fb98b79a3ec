import type { PgClient } from './client.js';
import { ensureSchemaObjects } from './ddl.js';

/** Identifiers of the messaging tables in the configured schema. */
export interface MessagingTables {
  readonly schema: string;
  /** `<schema>.queue_messages`: every queue message of every namespace, dead-letter queues included. */
  readonly messages: string;
  /** `<schema>.queue_policies`: dead-letter policies, one row per (namespace, queue). */
  readonly policies: string;
  /** `<schema>.pubsub_messages`: published messages too large for a NOTIFY payload, kept briefly. */
  readonly published: string;
}

/** Names of the messaging tables in `schema`. */
export const messagingTables = (schema: string): MessagingTables => ({
  schema,
  messages: `${schema}.queue_messages`,
  policies: `${schema}.queue_policies`,
  published: `${schema}.pubsub_messages`,
});

/**
 * Creates the queue and pub/sub tables if missing; idempotent and safe when several instances start at once.
 * `namespace` leads every key, so namespaces sharing the database never see each other's messages.
 */
export async function ensureMessagingSchema(client: PgClient, t: MessagingTables): Promise<void> {
  await ensureSchemaObjects(client, t.schema, (schema) => [
    // visible_at drives everything: receivable when <= now(); a Receive pushes it out by the visibility
    // timeout, Nack and delayed delivery set it. receipt names the current delivery (NULL when none).
    `
        CREATE TABLE IF NOT EXISTS ${schema}."queue_messages" (
          namespace      text COLLATE "C" NOT NULL,
          queue          text COLLATE "C" NOT NULL,
          id             uuid NOT NULL,
          seq            bigint GENERATED ALWAYS AS IDENTITY,
          payload        bytea NOT NULL,
          metadata       jsonb NOT NULL DEFAULT '{}',
          enqueued_at    timestamptz NOT NULL DEFAULT now(),
          visible_at     timestamptz NOT NULL DEFAULT now(),
          delivery_count integer NOT NULL DEFAULT 0,
          receipt        uuid,
          PRIMARY KEY (namespace, queue, id)
        )`,
    `CREATE INDEX IF NOT EXISTS queue_messages_visible ON ${schema}."queue_messages" (namespace, queue, visible_at, seq)`,
    `
        CREATE TABLE IF NOT EXISTS ${schema}."queue_policies" (
          namespace         text COLLATE "C" NOT NULL,
          queue             text COLLATE "C" NOT NULL,
          max_deliveries    integer NOT NULL CHECK (max_deliveries > 0),
          dead_letter_queue text COLLATE "C" NOT NULL,
          PRIMARY KEY (namespace, queue)
        )`,
    `
        CREATE TABLE IF NOT EXISTS ${schema}."pubsub_messages" (
          namespace    text COLLATE "C" NOT NULL,
          id           uuid NOT NULL,
          topic        text COLLATE "C" NOT NULL,
          payload      bytea NOT NULL,
          metadata     jsonb NOT NULL DEFAULT '{}',
          published_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (namespace, id)
        )`,
    `CREATE INDEX IF NOT EXISTS pubsub_messages_age ON ${schema}."pubsub_messages" (namespace, published_at)`,
  ]);
}
