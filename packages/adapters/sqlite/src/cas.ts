import { etagMismatch, type KeyValueCASImpl, keyExists } from '@prism/keyvalue-cas';
import { bytesOf } from './basic.js';
import { etagOf, versionOf } from './etag.js';
import { LIVE, type SqliteStore } from './store.js';

/**
 * keyvalue_cas on SQLite: each conditional write is a single statement whose WHERE clause is the
 * condition, so the check and the write cannot be separated by another writer.
 */
export function sqliteCas(store: SqliteStore): KeyValueCASImpl {
  const ns = store.namespace;
  const versioned = (sql: string) => store.stmt(sql).safeIntegers(true); // versions are full 64-bit
  const exists = (key: string) =>
    store
      .stmt(`SELECT 1 FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`)
      .get(ns, key, Date.now()) !== undefined;
  return {
    getVersioned: (req) =>
      store.guard(() => {
        const row = versioned(
          `SELECT value, version FROM prism_kv WHERE namespace = ? AND key = ? AND ${LIVE}`,
        ).get(ns, req.key, Date.now()) as { value: Buffer; version: bigint } | undefined;
        return row
          ? { found: true, value: bytesOf(row.value), etag: etagOf(row.version) }
          : { found: false, etag: '' };
      }),
    compareAndSet: (req) =>
      store.guard(() => {
        const now = Date.now();
        let row: { version: bigint } | undefined;
        if (req.expectedEtag !== '') {
          const expected = versionOf(req.expectedEtag);
          row =
            expected === undefined
              ? undefined
              : (versioned(
                  `UPDATE prism_kv SET value = ?, expires_at = NULL, version = random()
                   WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE} RETURNING version`,
                ).get(req.value, ns, req.key, expected, now) as { version: bigint } | undefined);
          if (!row) throw etagMismatch(req.key, exists(req.key));
        } else {
          // create_only may replace only an expired row; otherwise the write is unconditional.
          const guard = req.createOnly
            ? 'WHERE prism_kv.expires_at IS NOT NULL AND prism_kv.expires_at <= ?'
            : '';
          const args: unknown[] = [ns, req.key, req.value];
          if (req.createOnly) args.push(now);
          row = versioned(
            `INSERT INTO prism_kv (namespace, key, value, expires_at, version) VALUES (?, ?, ?, NULL, random())
             ON CONFLICT (namespace, key) DO UPDATE
             SET value = excluded.value, expires_at = NULL, version = excluded.version ${guard}
             RETURNING version`,
          ).get(...args) as { version: bigint } | undefined;
          if (!row) throw keyExists(req.key);
        }
        return { etag: etagOf(row.version) };
      }),
    compareAndDelete: (req) =>
      store.guard(() => {
        const expected = versionOf(req.expectedEtag);
        const changes =
          expected === undefined
            ? 0
            : store
                .stmt(`DELETE FROM prism_kv WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE}`)
                .run(ns, req.key, expected, Date.now()).changes;
        if (changes === 0) throw etagMismatch(req.key, exists(req.key));
        return {};
      }),
  };
}
