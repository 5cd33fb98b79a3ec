import { batchDeleteFlags, type KeyValueBatchImpl } from '@prism/keyvalue-batch';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import { bulkUpsert, keysParam, lastWins } from './kv-bulk.js';
import type { KvTables } from './kv-schema.js';

/**
 * keyvalue_batch on PostgreSQL: every call is ONE statement (atomic, one round trip), whatever the
 * number of keys; results are mapped back to request order in TypeScript.
 */
export function pgBatch(client: PgClient, tables: KvTables): KeyValueBatchImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);
  return {
    async batchSet(req, ctx) {
      const entries = lastWins(req.entries.map((e) => ({ key: e.key, value: e.value, ttlMs: 0 })));
      if (entries.length > 0) await client.run(bulkUpsert(sql, tables.table, ns, entries), ctx);
      return { count: req.entries.length };
    },
    async batchGet(req, ctx) {
      if (req.keys.length === 0) return { entries: [] };
      const rows = await client.run(
        sql<{ key: string; value: Buffer }[]>`SELECT key, value FROM ${t}
          WHERE namespace = ${ns} AND key IN (SELECT jsonb_array_elements_text(${keysParam(sql, req.keys)}::jsonb))
            AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      const found = new Map(rows.map((r) => [r.key, r.value]));
      const entries = req.keys.map((key) => {
        const value = found.get(key);
        return value ? { key, found: true, value: bytesOf(value) } : { key, found: false };
      });
      return { entries };
    },
    async batchDelete(req, ctx) {
      if (req.keys.length === 0) return { deleted: [], deletedCount: 0 };
      const rows = await client.run(
        sql<{ key: string; live: boolean }[]>`DELETE FROM ${t}
          WHERE namespace = ${ns} AND key IN (SELECT jsonb_array_elements_text(${keysParam(sql, req.keys)}::jsonb))
          RETURNING key, (expires_at IS NULL OR expires_at > now()) AS live`,
        ctx,
      );
      const deleted = batchDeleteFlags(req.keys, new Set(rows.filter((r) => r.live).map((r) => r.key)));
      return { deleted, deletedCount: deleted.filter(Boolean).length };
    },
  };
}
