import type { KeyValueTTLImpl } from '@prism/keyvalue-ttl';
import type { PgClient } from './client.js';
import type { KvTables } from './kv-schema.js';

/**
 * keyvalue_ttl on PostgreSQL: `expires_at` computed from the server's clock, filtered on every read and
 * deleted in the background by {@link startKvSweeper}. TTLs are validated (> 0, exact as a double) by the contract.
 */
export function pgTtl(client: PgClient, tables: KvTables): KeyValueTTLImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);
  return {
    async setWithTTL(req, ctx) {
      await client.run(
        sql`INSERT INTO ${t} (namespace, key, value, expires_at)
            VALUES (${ns}, ${req.key}, ${req.value}, now() + ${Number(req.ttlMs)}::float8 * interval '1 millisecond')
            ON CONFLICT (namespace, key) DO UPDATE
            SET value = excluded.value, expires_at = excluded.expires_at, version = DEFAULT`,
        ctx,
      );
      return {};
    },
    async expire(req, ctx) {
      const res = await client.run(
        sql`UPDATE ${t} SET expires_at = now() + ${Number(req.ttlMs)}::float8 * interval '1 millisecond'
            WHERE namespace = ${ns} AND key = ${req.key} AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      return { applied: res.count > 0 };
    },
    async getTTL(req, ctx) {
      const [row] = await client.run(
        sql<{ ttl_ms: string | null }[]>`
          SELECT ceil(extract(epoch FROM expires_at - now()) * 1000)::int8 AS ttl_ms FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      if (!row) return { exists: false };
      if (row.ttl_ms === null) return { exists: true, hasTtl: false };
      // expires_at > now() holds, so the rounded-up remainder is at least 1 ms.
      return { exists: true, hasTtl: true, ttlMs: BigInt(row.ttl_ms) };
    },
    async persist(req, ctx) {
      const res = await client.run(
        sql`UPDATE ${t} SET expires_at = NULL
            WHERE namespace = ${ns} AND key = ${req.key} AND expires_at > now()`,
        ctx,
      );
      return { applied: res.count > 0 };
    },
  };
}

/** Deletes this namespace's expired rows every `sweep_interval_ms` (reads already hide them). */
export function startKvSweeper(client: PgClient, tables: KvTables): void {
  const { sql } = client;
  const t = sql(tables.table);
  client.every(client.config.sweep_interval_ms, 'sweeping expired keys', () =>
    client.run(sql`DELETE FROM ${t} WHERE namespace = ${client.namespace} AND expires_at <= now()`),
  );
}
