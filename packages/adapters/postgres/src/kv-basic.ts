import type { KeyValueBasicImpl } from '@prism/keyvalue-basic';
import type { PgClient } from './client.js';
import type { KvTables } from './kv-schema.js';

/** bytea arrives as a Buffer; hand out a plain Uint8Array view of it (no copy). */
export const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * keyvalue_basic on PostgreSQL. Expired rows are invisible to every read (`expires_at > now()`, using the
 * server's clock so several proxies agree); a plain Set clears any TTL and takes a new version.
 */
export function pgBasic(client: PgClient, tables: KvTables): KeyValueBasicImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);
  return {
    async set(req, ctx) {
      await client.run(
        sql`INSERT INTO ${t} (namespace, key, value) VALUES (${ns}, ${req.key}, ${req.value})
            ON CONFLICT (namespace, key) DO UPDATE
            SET value = excluded.value, expires_at = NULL, version = DEFAULT`,
        ctx,
      );
      return {};
    },
    async get(req, ctx) {
      const [row] = await client.run(
        sql<{ value: Buffer }[]>`SELECT value FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      return row ? { found: true, value: bytesOf(row.value) } : { found: false };
    },
    async delete(req, ctx) {
      // Expired rows are deleted too (less work for the sweeper) but only a live key counts as deleted.
      const [row] = await client.run(
        sql<{ live: boolean }[]>`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          RETURNING (expires_at IS NULL OR expires_at > now()) AS live`,
        ctx,
      );
      return { deleted: row?.live === true };
    },
    async exists(req, ctx) {
      const rows = await client.run(
        sql`SELECT 1 FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      return { exists: rows.length > 0 };
    },
  };
}
