import { etagMismatch, type KeyValueCASImpl, keyExists } from '@prism/keyvalue-cas';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import type { KvTables } from './kv-schema.js';

/** Etags are the row's version (from the kv_version sequence, new on every write) in decimal. */
export function versionOf(etag: string): string | undefined {
  return /^\d{1,19}$/.test(etag) && BigInt(etag) <= 0x7fff_ffff_ffff_ffffn ? etag : undefined;
}

/**
 * keyvalue_cas on PostgreSQL: each conditional write is one statement whose WHERE clause (or ON
 * CONFLICT) is the condition; under concurrency PostgreSQL re-checks it on the latest row version, so
 * exactly one writer holding a given etag wins.
 */
export function pgCas(client: PgClient, tables: KvTables): KeyValueCASImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);
  const exists = async (key: string, signal: AbortSignal) =>
    (
      await client.run(
        sql`SELECT 1 FROM ${t} WHERE namespace = ${ns} AND key = ${key} AND (expires_at IS NULL OR expires_at > now())`,
        signal,
      )
    ).length > 0;
  return {
    async getVersioned(req, ctx) {
      const [row] = await client.run(
        sql<{ value: Buffer; etag: string }[]>`SELECT value, version::text AS etag FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      return row ? { found: true, value: bytesOf(row.value), etag: row.etag } : { found: false, etag: '' };
    },
    async compareAndSet(req, ctx) {
      if (req.expectedEtag !== '') {
        const version = versionOf(req.expectedEtag);
        const rows =
          version === undefined
            ? []
            : await client.run(
                sql<
                  { etag: string }[]
                >`UPDATE ${t} SET value = ${req.value}, expires_at = NULL, version = DEFAULT
                  WHERE namespace = ${ns} AND key = ${req.key} AND version = ${version}::int8
                    AND (expires_at IS NULL OR expires_at > now())
                  RETURNING version::text AS etag`,
                ctx,
              );
        if (!rows[0]) throw etagMismatch(req.key, await exists(req.key, ctx.signal));
        return { etag: rows[0].etag };
      }
      // create_only may replace only an expired row (not yet swept); otherwise the write is unconditional.
      const [row] = await client.run(
        req.createOnly
          ? sql<
              { etag: string }[]
            >`INSERT INTO ${t} (namespace, key, value) VALUES (${ns}, ${req.key}, ${req.value})
              ON CONFLICT (namespace, key) DO UPDATE
              SET value = excluded.value, expires_at = NULL, version = DEFAULT
              WHERE ${t}.expires_at IS NOT NULL AND ${t}.expires_at <= now()
              RETURNING version::text AS etag`
          : sql<
              { etag: string }[]
            >`INSERT INTO ${t} (namespace, key, value) VALUES (${ns}, ${req.key}, ${req.value})
              ON CONFLICT (namespace, key) DO UPDATE
              SET value = excluded.value, expires_at = NULL, version = DEFAULT
              RETURNING version::text AS etag`,
        ctx,
      );
      if (!row) throw keyExists(req.key);
      return { etag: row.etag };
    },
    async compareAndDelete(req, ctx) {
      const version = versionOf(req.expectedEtag);
      const res =
        version === undefined
          ? { count: 0 }
          : await client.run(
              sql`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.key} AND version = ${version}::int8
                AND (expires_at IS NULL OR expires_at > now())`,
              ctx,
            );
      if (res.count === 0) throw etagMismatch(req.key, await exists(req.key, ctx.signal));
      return {};
    },
  };
}
