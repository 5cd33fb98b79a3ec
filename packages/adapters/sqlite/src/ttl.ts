import type { KeyValueTTLImpl } from '@prism/keyvalue-ttl';
import { UPSERT } from './basic.js';
import { LIVE, type SqliteStore } from './store.js';

/** Absolute expiry (epoch ms) for a TTL (validated > 0 by the contract), capped to stay an exact integer. */
export function expiryOf(ttlMs: bigint, now = Date.now()): number {
  return Math.min(now + Number(ttlMs), Number.MAX_SAFE_INTEGER);
}

/**
 * keyvalue_ttl on SQLite: an `expires_at` column, filtered on every read (so an expired key is missing at
 * once) and deleted in the background by the store's sweeper.
 */
export function sqliteTtl(store: SqliteStore): KeyValueTTLImpl {
  const ns = store.namespace;
  return {
    setWithTTL: (req) =>
      store.guard(() => {
        store.stmt(UPSERT).run(ns, req.key, req.value, expiryOf(req.ttlMs));
        return {};
      }),
    expire: (req) =>
      store.guard(() => {
        const now = Date.now();
        const sql = `UPDATE prism_kv SET expires_at = ? WHERE namespace = ? AND key = ? AND ${LIVE}`;
        return { applied: store.stmt(sql).run(expiryOf(req.ttlMs, now), ns, req.key, now).changes > 0 };
      }),
    getTTL: (req) =>
      store.guard(() => {
        const now = Date.now();
        const row = store
          .stmt(`SELECT expires_at FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`)
          .get(ns, req.key, now) as { expires_at: number | null } | undefined;
        if (!row) return { exists: false };
        if (row.expires_at === null) return { exists: true, hasTtl: false };
        return { exists: true, hasTtl: true, ttlMs: BigInt(Math.max(1, Math.ceil(row.expires_at - now))) };
      }),
    persist: (req) =>
      store.guard(() => {
        const sql =
          'UPDATE prism_kv SET expires_at = NULL WHERE namespace = ? AND key = ? AND expires_at > ?';
        return { applied: store.stmt(sql).run(ns, req.key, Date.now()).changes > 0 };
      }),
  };
}
