import { z } from '@prism/sdk';

const broker = z
  .string()
  .min(1)
  .regex(/^(kafka:\/\/)?[^/\s]+:\d+$/, 'expected host:port (or kafka://host:port)')
  .transform((b) => b.replace(/^kafka:\/\//, ''));

/** `backend.config` of a `kafka` namespace. */
export const KafkaConfigSchema = z
  .object({
    /** Bootstrap brokers; the client discovers the rest of the cluster. A single string is accepted too. */
    brokers: z
      .union([broker, z.array(broker).min(1)])
      .default(['127.0.0.1:9092'])
      .transform((b) => (Array.isArray(b) ? b : [b])),
    client_id: z.string().min(1).default('prism'),
    /** TLS to the brokers: `true` with the system CAs, or files. */
    ssl: z
      .union([
        z.boolean(),
        z
          .object({
            ca_file: z.string().min(1).optional(),
            cert_file: z.string().min(1).optional(),
            key_file: z.string().min(1).optional(),
            key_password: z.string().optional(),
          })
          .strict(),
      ])
      .default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        /** Prefer a `${env:NAME}` / `${file:/path}` reference: sidecar and remote plugins then get it as a credential. */
        password: z.string().min(1, 'the SASL password is empty'),
      })
      .strict()
      .optional(),
    /** Prefix of every topic: `<topic_prefix>.<namespace>.<name>`. */
    topic_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-" only (max 32)')
      .default('prism'),
    /**
     * Partitions of topics the adapter creates. stream_basic, stream_replay and pub/sub use partition 0 (one
     * ordered log); keyed appends of stream_partitioning spread over all partitions (murmur2, see README).
     */
    partitions: z.number().int().min(1).max(10_000).default(1),
    /**
     * Partitions of pubsub_ordering topics the adapter creates: ordering keys are spread over them (murmur2,
     * as keyed stream appends), one key always on one partition. An existing topic keeps its count.
     */
    ordering_partitions: z.number().int().min(1).max(10_000).default(8),
    /**
     * `retention.ms` of every topic the adapter creates: records older than this are deleted by the broker
     * (-1 = kept forever). Unset = the broker's `log.retention.ms` (7 days by default). Applied at creation
     * only: topics that already exist keep their config.
     */
    retention_ms: z.number().int().min(-1).optional(),
    /**
     * `retention.bytes` of every topic the adapter creates: per partition, the oldest segments are deleted
     * beyond this size (-1 = no size bound). Unset = the broker's `log.retention.bytes`. Applied at creation
     * only, like `retention_ms`.
     */
    retention_bytes: z.number().int().min(-1).optional(),
    /** Replication factor of created topics; -1 = the broker's default.replication.factor. */
    replication_factor: z.number().int().min(-1).max(32).default(-1),
    /** Deadline of one produce (delivery report) and of admin/metadata requests; then UNAVAILABLE. */
    request_timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    /** Consumer group session timeout floor (the broker's group.min.session.timeout.ms is 6000 by default). */
    min_session_timeout_ms: z.number().int().min(100).max(3_600_000).default(6_000),
    /** Heartbeat interval of group members: lower = faster rebalances after a member leaves. */
    heartbeat_interval_ms: z.number().int().min(50).max(60_000).default(1_000),
    /** Messages buffered per pub/sub subscription before new ones are dropped (and counted). */
    subscription_buffer: z.number().int().min(1).max(1_000_000).default(1024),
  })
  .strict();

/** Parsed `backend.config` of a `kafka` namespace. */
export type KafkaConfig = z.output<typeof KafkaConfigSchema>;
