import { z } from '@prism/sdk';

/** TLS settings; PEM text (use `${file:/path}` references in YAML for files). */
const TlsConfig = z.strictObject({
  /** Trusted CA certificate(s), PEM. Default: the system store. */
  ca: z.string().optional(),
  /** Client certificate for mutual TLS, PEM. */
  cert: z.string().optional(),
  /** Client private key for mutual TLS, PEM. */
  key: z.string().optional(),
  /** SNI server name, when it differs from the URL host. */
  servername: z.string().optional(),
  /** Verify the server certificate (default true; false only for tests). */
  reject_unauthorized: z.boolean().default(true),
});

/** `backend.config` of a redis namespace. Unknown fields are rejected so typos surface at load. */
export const RedisConfig = z
  .strictObject({
    /** `redis://[user[:password]@]host[:port][/db]`; `rediss://` turns TLS on. */
    url: z
      .string()
      .default('redis://127.0.0.1:6379')
      .refine((u) => /^rediss?:\/\/[^\s]+$/.test(u), { message: 'must be a redis:// or rediss:// URL' }),
    /** ACL user name (overrides the URL's). */
    username: z.string().min(1).optional(),
    /**
     * Password (overrides the URL's). Prefer `${env:NAME}` / `${file:/path}` references: sidecar and remote
     * plugins then receive it in the Initialize credentials, not in the config.
     */
    password: z.string().min(1).optional(),
    /** Logical database number (SELECT), overrides the URL's path. */
    database: z.number().int().min(0).optional(),
    /** TLS: `true` for the system CAs, or detailed settings. Implied by `rediss://`. */
    tls: z.union([z.boolean(), TlsConfig]).optional(),
    /**
     * Prefix of every Redis key of the namespace. Default `<namespace>:`. Namespaces sharing a Redis must
     * use prefixes where none is a prefix of another (the default's `:` guarantees that).
     */
    key_prefix: z
      .string()
      .min(1)
      .refine((p) => !p.includes('\u0000'), { message: 'must not contain the NUL character' })
      .optional(),
    /** How long to wait for a connection (at start and per reconnect attempt). */
    connect_timeout_ms: z.number().int().positive().default(5000),
    /** How long one command may take before the call fails with UNAVAILABLE. */
    command_timeout_ms: z.number().int().positive().default(5000),
    /** Upper bound of the reconnect backoff while Redis is unreachable. */
    reconnect_max_delay_ms: z.number().int().positive().default(2000),
  })
  // An ACL user logs in with AUTH <user> <password>: a user alone is a config whose secret is missing.
  .refine((c) => !c.username || c.password !== undefined || /^rediss?:\/\/[^/@]*:[^/@]*@/.test(c.url), {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config reference, not a template
    message: 'username needs a password (set password, e.g. password: ${env:REDIS_PASSWORD})',
    path: ['password'],
  });

/** Config accepted by the redis backend (defaults applied). */
export type RedisConfig = z.output<typeof RedisConfig>;
