import { redactUrl, z } from '@prism/sdk';
import type { Options, PostgresType } from 'postgres';

const Ssl = z.union([
  z.boolean(),
  z.enum(['require', 'prefer', 'allow', 'verify-full']),
  z.object({
    /** PEM CA bundle to trust instead of the system roots. */
    ca: z.string().optional(),
    /** PEM client certificate and key for mutual TLS. */
    cert: z.string().optional(),
    key: z.string().optional(),
    reject_unauthorized: z.boolean().default(true),
    servername: z.string().optional(),
  }),
]);

/** `backend.config` of a PostgreSQL namespace. Give `url`, or `host` (and optionally port/user/...). */
export const PostgresConfig = z
  .object({
    /** `postgres://user:password@host:port/database?...`; fields below override its parts. */
    url: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    /** Connections in this namespace's pool. */
    pool_size: z.number().int().min(1).max(1000).default(10),
    /** Schema holding Prism's tables; created on start when missing. */
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'use lowercase letters, digits and _ (a PostgreSQL identifier)')
      .default('prism'),
    /** Deadline for opening a connection (TCP + TLS + auth). */
    connect_timeout_ms: z.number().int().min(100).max(600_000).default(5000),
    /** Server-side statement_timeout of every session; 0 disables it. */
    statement_timeout_ms: z.number().int().min(0).max(3_600_000).default(10_000),
    /** Client-side deadline of one call; past it the call fails with UNAVAILABLE even if the server never answers. */
    query_timeout_ms: z.number().int().min(100).max(3_600_000).default(15_000),
    /** Idle connections are closed after this long, so connections broken by an outage are not kept. */
    idle_timeout_ms: z.number().int().min(1000).max(86_400_000).default(60_000),
    /** How often expired keys are deleted in the background. */
    sweep_interval_ms: z.number().int().min(10).max(3_600_000).default(1000),
    ssl: Ssl.default(false),
  })
  .refine((c) => c.url !== undefined || c.host !== undefined, {
    message: 'set "url" (postgres://user:password@host:port/database) or "host"',
    path: ['url'],
  });

/** Parsed PostgreSQL adapter config. */
export type PostgresConfig = z.output<typeof PostgresConfig>;

/** Where the adapter connects, for messages: never carries the password. */
export function describeTarget(c: PostgresConfig): string {
  if (c.url && !c.host && !c.port && !c.user && !c.database) return redactUrl(c.url);
  const base = c.url ? new URL(redactUrl(c.url)) : new URL('postgres://localhost');
  if (c.host) base.hostname = c.host;
  if (c.port) base.port = String(c.port);
  if (c.user) base.username = c.user;
  if (c.database) base.pathname = `/${c.database}`;
  if (c.password) base.password = '***';
  return base.toString();
}

/** The password in use (from `password` or the URL), so messages can be scrubbed of it. */
export function passwordOf(c: PostgresConfig): string | undefined {
  if (c.password) return c.password;
  if (!c.url) return undefined;
  try {
    return decodeURIComponent(new URL(c.url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Reconnect delay in seconds: short and bounded, so calls after an outage neither wait long nor hammer. */
const backoff = (attempt: number) => Math.min(0.05 * 2 ** attempt, 0.5);

/** postgres.js options for a config. */
export function clientOptions(
  c: PostgresConfig,
  applicationName: string,
): Options<Record<string, PostgresType>> {
  const ssl =
    typeof c.ssl === 'object'
      ? {
          ca: c.ssl.ca,
          cert: c.ssl.cert,
          key: c.ssl.key,
          rejectUnauthorized: c.ssl.reject_unauthorized,
          servername: c.ssl.servername,
        }
      : c.ssl;
  return {
    ...(c.host ? { host: c.host } : {}),
    ...(c.port ? { port: c.port } : {}),
    ...(c.user ? { user: c.user } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.database ? { database: c.database } : {}),
    max: c.pool_size,
    connect_timeout: c.connect_timeout_ms / 1000,
    idle_timeout: c.idle_timeout_ms / 1000,
    ssl,
    prepare: true, // named prepared statements, parsed once per connection
    fetch_types: false, // only built-in types are used; saves a round trip per connection
    backoff,
    onnotice: () => {}, // "already exists, skipping" notices from idempotent DDL are expected
    connection: {
      application_name: applicationName,
      ...(c.statement_timeout_ms > 0 ? { statement_timeout: c.statement_timeout_ms } : {}),
    },
  };
}
