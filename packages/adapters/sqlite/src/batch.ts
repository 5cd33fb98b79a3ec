import type { KeyValueBatchImpl } from '@prism/keyvalue-batch';
import { bytesOf, UPSERT } from './basic.js';
import { LIVE, type SqliteStore } from './store.js';

/** keyvalue_batch on SQLite: each call is one transaction, so readers see a batch all at once. */
export function sqliteBatch(store: SqliteStore): KeyValueBatchImpl {
  const ns = store.namespace;
  const select = () => store.stmt(`SELECT value FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`);
  const remove = () =>
    store.stmt('DELETE FROM prism_kv WHERE namespace = ? AND key = ? RETURNING expires_at');
  return {
    batchSet: (req) =>
      store.transaction(() => {
        const upsert = store.stmt(UPSERT);
        for (const e of req.entries) upsert.run(ns, e.key, e.value, null); // in order: the later value wins
        return { count: req.entries.length };
      }),
    batchGet: (req) =>
      // A read transaction gives every key the same snapshot, even with writers on other connections.
      store.transaction(() => {
        const now = Date.now();
        const stmt = select();
        const entries = req.keys.map((key) => {
          const row = stmt.get(ns, key, now) as { value: Buffer } | undefined;
          return row ? { key, found: true, value: bytesOf(row.value) } : { key, found: false };
        });
        return { entries };
      }, 'deferred'),
    batchDelete: (req) =>
      store.transaction(() => {
        const now = Date.now();
        const stmt = remove();
        // Deleting in order makes a repeated key false after its first occurrence.
        const deleted = req.keys.map((key) => {
          const row = stmt.get(ns, key) as { expires_at: number | null } | undefined;
          return row !== undefined && (row.expires_at === null || row.expires_at > now);
        });
        return { deleted, deletedCount: deleted.filter(Boolean).length };
      }),
  };
}
