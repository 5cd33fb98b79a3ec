import type { KeyValueBasicImpl } from '@prism/keyvalue-basic';
import { LIVE, type SqliteStore } from './store.js';

/** Upsert used by every plain write: replaces the value, sets the TTL (NULL = none) and a new version. */
export const UPSERT = `INSERT INTO prism_kv (namespace, key, value, expires_at, version) VALUES (?, ?, ?, ?, random())
  ON CONFLICT (namespace, key) DO UPDATE
  SET value = excluded.value, expires_at = excluded.expires_at, version = excluded.version`;

/** A Buffer from better-sqlite3 as a plain Uint8Array view (no copy). */
export const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** keyvalue_basic on SQLite. Calls are synchronous; a plain Set clears any TTL. */
export function sqliteBasic(store: SqliteStore): KeyValueBasicImpl {
  const ns = store.namespace;
  return {
    set: (req) =>
      store.guard(() => {
        store.stmt(UPSERT).run(ns, req.key, req.value, null);
        return {};
      }),
    get: (req) =>
      store.guard(() => {
        const row = store
          .stmt(`SELECT value FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`)
          .get(ns, req.key, Date.now()) as { value: Buffer } | undefined;
        return row ? { found: true, value: bytesOf(row.value) } : { found: false };
      }),
    delete: (req) =>
      store.guard(() => {
        // Delete expired rows too (saves the sweeper work) but only report a live key as deleted.
        const row = store
          .stmt('DELETE FROM prism_kv WHERE namespace = ? AND key = ? RETURNING expires_at')
          .get(ns, req.key) as { expires_at: number | null } | undefined;
        return { deleted: row !== undefined && (row.expires_at === null || row.expires_at > Date.now()) };
      }),
    exists: (req) =>
      store.guard(() => {
        const row = store
          .stmt(`SELECT 1 FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`)
          .get(ns, req.key, Date.now());
        return { exists: row !== undefined };
      }),
  };
}
