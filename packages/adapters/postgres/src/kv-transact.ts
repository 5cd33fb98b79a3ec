import {
  conditionFailed,
  conditionHolds,
  type KeyState,
  type KeyValueTransactionalImpl,
} from '@prism/keyvalue-transactional';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import { type BulkEntry, bulkUpsert, keysParam, lastWins } from './kv-bulk.js';
import type { KvTables } from './kv-schema.js';

interface Row {
  key: string;
  value: Buffer;
  etag: string;
  live: boolean;
}

/**
 * keyvalue_transactional on PostgreSQL, as ONE SQL transaction:
 *  1. lock every key it touches, in key order (no deadlocks between transactions): missing keys first
 *     get a placeholder row that is already expired (`expires_at = '-infinity'`, invisible to every
 *     read), so a concurrent writer of a missing key waits for us instead of slipping in between;
 *  2. check the conditions against the locked rows; a failure throws ABORTED and rolls everything back;
 *  3. apply the net effect of the operations (last one per key wins) in two statements, and drop the
 *     placeholders still left.
 */
export function pgTransactional(client: PgClient, tables: KvTables): KeyValueTransactionalImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);
  return {
    async transact(req, ctx) {
      const touched = new Set<string>(req.conditions.map((c) => c.key));
      for (const op of req.operations) if (op.kind.value) touched.add(op.kind.value.key);
      const keys = keysParam(
        sql,
        [...touched].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );

      const results = await client.run(
        sql.begin(async (tx) => {
          await tx`INSERT INTO ${t} (namespace, key, value, expires_at)
            SELECT ${ns}, k, '', '-infinity' FROM jsonb_array_elements_text(${keys}::jsonb) WITH ORDINALITY AS x(k, i)
            ORDER BY i
            ON CONFLICT (namespace, key) DO NOTHING`;
          const rows = await tx<Row[]>`SELECT key, value, version::text AS etag,
              (expires_at IS NULL OR expires_at > now()) AS live
            FROM ${t} WHERE namespace = ${ns} AND key IN (SELECT jsonb_array_elements_text(${keys}::jsonb))
            ORDER BY key FOR UPDATE`;
          const before = new Map<string, KeyState>(
            rows.map((r) => [
              r.key,
              r.live ? { exists: true, value: bytesOf(r.value), etag: r.etag } : { exists: false },
            ]),
          );
          req.conditions.forEach((cond, i) => {
            if (!conditionHolds(cond, before.get(cond.key) ?? { exists: false }))
              throw conditionFailed(i, cond);
          });

          // Walk the operations in order for the `existed` flags, keeping only each key's last write.
          const live = new Map([...before].map(([k, s]) => [k, s.exists]));
          const finalOp = new Map<string, BulkEntry | undefined>(); // undefined = delete
          const results = req.operations.map((op) => {
            const key = op.kind.value!.key;
            const existed = live.get(key) ?? false;
            if (op.kind.case === 'set') {
              finalOp.set(key, { key, value: op.kind.value.value, ttlMs: Number(op.kind.value.ttlMs) });
              live.set(key, true);
            } else {
              finalOp.set(key, undefined);
              live.set(key, false);
            }
            return { existed };
          });

          const sets = lastWins([...finalOp.values()].filter((e): e is BulkEntry => e !== undefined));
          const deletes = [...finalOp].filter(([, e]) => e === undefined).map(([k]) => k);
          if (sets.length > 0) await bulkUpsert(tx, tables.table, ns, sets);
          // Deleted keys, and placeholders of keys that were only checked or deleted while missing.
          await tx`DELETE FROM ${t} WHERE namespace = ${ns}
            AND key IN (SELECT jsonb_array_elements_text(${keys}::jsonb))
            AND (expires_at = '-infinity' OR key IN (SELECT jsonb_array_elements_text(${keysParam(tx, deletes)}::jsonb)))`;
          return results;
        }),
        ctx,
      );
      return { results };
    },
  };
}
