import { z } from '@prism/sdk';

/** `backend.config` of a SQLite namespace. */
export const SqliteConfig = z.object({
  /** Database file, or `:memory:` for a private in-memory database (lost on close). */
  path: z.string().min(1).default(':memory:'),
  /** How long a write waits for another connection's lock before failing with UNAVAILABLE. */
  busy_timeout_ms: z.number().int().min(0).max(600_000).default(5000),
  /** How often expired keys are deleted in the background. */
  sweep_interval_ms: z.number().int().min(10).max(3_600_000).default(1000),
});

/** Parsed SQLite adapter config. */
export type SqliteConfig = z.output<typeof SqliteConfig>;
