import {
  conditionFailed,
  conditionHolds,
  type KeyState,
  type KeyValueTransactionalImpl,
} from '@prism/keyvalue-transactional';
import { bytesOf, UPSERT } from './basic.js';
import { etagOf } from './etag.js';
import { LIVE, type SqliteStore } from './store.js';
import { expiryOf } from './ttl.js';

/**
 * keyvalue_transactional on SQLite: one IMMEDIATE transaction holds the database's write lock, so the
 * conditions are checked and the operations applied with no other writer in between; a failed condition
 * throws, which rolls everything back.
 */
export function sqliteTransactional(store: SqliteStore): KeyValueTransactionalImpl {
  const ns = store.namespace;
  return {
    transact: (req) =>
      store.transaction(() => {
        const now = Date.now();
        const read = store
          .stmt(`SELECT value, version FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`)
          .safeIntegers(true);
        const stateOf = (key: string): KeyState => {
          const row = read.get(ns, key, now) as { value: Buffer; version: bigint } | undefined;
          return row
            ? { exists: true, value: bytesOf(row.value), etag: etagOf(row.version) }
            : { exists: false };
        };
        req.conditions.forEach((cond, i) => {
          if (!conditionHolds(cond, stateOf(cond.key))) throw conditionFailed(i, cond);
        });
        const live = store.stmt(`SELECT 1 FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`);
        const upsert = store.stmt(UPSERT);
        const remove = store.stmt(
          `DELETE FROM prism_kv WHERE namespace = ? AND key = ? RETURNING expires_at`,
        );
        const results = req.operations.map((op) => {
          if (op.kind.case === 'set') {
            const { key, value, ttlMs } = op.kind.value;
            const existed = live.get(ns, key, now) !== undefined;
            upsert.run(ns, key, value, ttlMs > 0n ? expiryOf(ttlMs, now) : null);
            return { existed };
          }
          const key = op.kind.value!.key;
          const row = remove.get(ns, key) as { expires_at: number | null } | undefined;
          return { existed: row !== undefined && (row.expires_at === null || row.expires_at > now) };
        });
        return { results };
      }),
  };
}
