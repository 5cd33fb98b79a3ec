import { z } from '@prism/sdk';

const serverUrl = z
  .string()
  .min(1)
  .regex(/^(nats|tls|wss?):\/\/|^[^/]+$/, 'expected nats://host:port, tls://host:port or host:port');

/** `backend.config` of a `nats` namespace. */
export const NatsConfigSchema = z
  .object({
    /** Seed servers; the client discovers the rest of a cluster. A single string is accepted too. */
    servers: z
      .union([serverUrl, z.array(serverUrl).min(1)])
      .default(['nats://127.0.0.1:4222'])
      .transform((s) => (Array.isArray(s) ? s : [s])),
    user: z.string().min(1).optional(),
    /** Prefer a `${env:NAME}` / `${file:/path}` reference: sidecar and remote plugins then get it as a credential. */
    password: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    tls: z
      .object({
        ca_file: z.string().min(1).optional(),
        cert_file: z.string().min(1).optional(),
        key_file: z.string().min(1).optional(),
        /** Server configured with `handshake_first`. */
        handshake_first: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Prefix of every JetStream stream this adapter creates: `<prefix>_<namespace>_...`. */
    stream_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" and "-" only (max 32)')
      .default('PRISM'),
    /** Ack wait of JetStream consumers: the default visibility timeout of a received message. */
    ack_wait_ms: z
      .number()
      .int()
      .min(100)
      .max(12 * 3600_000)
      .default(30_000),
    /** JetStream storage for created streams. */
    storage: z.enum(['file', 'memory']).default('file'),
    /** Replicas of created streams (≤ cluster size). */
    replicas: z.number().int().min(1).max(5).default(1),
    /** Timeout of the first connect and of each JetStream API request. */
    connect_timeout_ms: z.number().int().min(100).default(5_000),
    request_timeout_ms: z.number().int().min(100).default(5_000),
    reconnect: z
      .object({
        enabled: z.boolean().default(true),
        /** -1 retries forever. */
        max_attempts: z.number().int().min(-1).default(-1),
        wait_ms: z.number().int().min(10).default(500),
      })
      .strict()
      .default({ enabled: true, max_attempts: -1, wait_ms: 500 }),
    /** Messages buffered per at-most-once subscription before new ones are dropped (and counted). */
    subscription_buffer: z.number().int().min(1).max(1_000_000).default(1024),
  })
  .strict()
  .refine((c) => !(c.token && (c.user || c.password)), {
    message: 'use either token or user/password, not both',
    path: ['token'],
  })
  .refine((c) => !c.password || c.user, { message: 'password needs user', path: ['user'] })
  // A user alone cannot log in: the secret is missing from the config (e.g. an unset credential).
  .refine((c) => !c.user || c.password, { message: 'user needs a password', path: ['password'] });

/** Parsed NATS adapter config. */
export type NatsConfig = z.output<typeof NatsConfigSchema>;
