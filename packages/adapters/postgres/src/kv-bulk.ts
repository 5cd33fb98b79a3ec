import type { TransactionSql } from 'postgres';
import type { Sql } from './client.js';

/** One write of a bulk upsert; `ttlMs` 0 means no TTL (clears any). */
export interface BulkEntry {
  readonly key: string;
  readonly value: Uint8Array;
  readonly ttlMs: number;
}

/**
 * Keys as one jsonb parameter (`jsonb_array_elements_text` in SQL): a single prepared statement handles
 * any number of keys without relying on postgres.js array type discovery.
 */
export const keysParam = (sql: Sql | TransactionSql, keys: readonly string[]) => sql.json([...keys]);

/** Later entries for the same key replace earlier ones; the result is sorted by key (a stable lock order). */
export function lastWins(entries: readonly BulkEntry[]): BulkEntry[] {
  const byKey = new Map<string, BulkEntry>();
  for (const e of entries) byKey.set(e.key, e);
  return [...byKey.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

/**
 * Upserts entries (distinct keys) in ONE statement: values travel base64-encoded inside a JSON document,
 * every row gets a new version, and expires_at is set from ttl or cleared.
 */
export function bulkUpsert(
  sql: Sql | TransactionSql,
  table: string,
  namespace: string,
  entries: readonly BulkEntry[],
) {
  const doc = sql.json(
    entries.map((e) => ({
      k: e.key,
      v: Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).toString('base64'),
      t: e.ttlMs,
    })),
  );
  return sql`
    INSERT INTO ${sql(table)} (namespace, key, value, expires_at)
    SELECT ${namespace}, e->>'k', decode(e->>'v', 'base64'),
           CASE WHEN (e->>'t')::float8 > 0 THEN now() + (e->>'t')::float8 * interval '1 millisecond' END
    FROM jsonb_array_elements(${doc}::jsonb) AS e
    ON CONFLICT (namespace, key) DO UPDATE
    SET value = excluded.value, expires_at = excluded.expires_at, version = DEFAULT`;
}
