import { z } from '@prism/sdk';
import { IDENTIFIER } from './sql.js';

/** Partition widths a namespace's points table can use (PARTITION BY floor(timestamp_ns / width)). */
export const PARTITION_NS = {
  hour: 3_600_000_000_000n,
  day: 86_400_000_000_000n,
  week: 604_800_000_000_000n,
} as const;

/** `backend.config` of a clickhouse namespace. Unknown fields are rejected so typos surface at load. */
export const ClickHouseConfig = z.strictObject({
  /** The HTTP interface: `http(s)://[user[:password]@]host:port`. */
  url: z
    .string()
    .default('http://127.0.0.1:8123')
    .refine((u) => /^https?:\/\/[^\s/]+\/?$/.test(u), {
      message: 'must be an http:// or https:// URL of the HTTP interface, without a path',
    }),
  /** User (overrides the URL's; default `default`). */
  username: z.string().min(1).optional(),
  /** Password (overrides the URL's). Prefer `${env:NAME}` / `${file:/path}` references. */
  password: z.string().optional(),
  /** Database of the tables (created when missing). */
  database: z
    .string()
    .regex(IDENTIFIER, 'must be ASCII letters, digits and _, not starting with a digit')
    .default('default'),
  /**
   * Prefix of the adapter's table names: `<prefix>points_<namespace slug>_<hash>` and
   * `<prefix>meta_<slug>_<hash>` per namespace.
   */
  table_prefix: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]{0,31}$/,
      'must be 1..32 ASCII letters, digits and _, not starting with a digit',
    )
    .default('prism_ts_'),
  /**
   * Width of a time partition of a new namespace's table (fixed when the table is created; retention
   * drops whole partitions).
   */
  partition: z.enum(['hour', 'day', 'week']).default('day'),
  /** How often the background loop re-enforces retention (drops partitions that fell out of it). */
  retention_check_interval_ms: z.number().int().min(1000).default(3_600_000),
  /** How long one HTTP request may take before the call fails with UNAVAILABLE. */
  request_timeout_ms: z.number().int().positive().default(30_000),
});

/** Config accepted by the clickhouse backend (defaults applied). */
export type ClickHouseConfig = z.output<typeof ClickHouseConfig>;
