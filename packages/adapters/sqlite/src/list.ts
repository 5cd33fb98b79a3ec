import { ListBasic, type ListBasicImpl } from '@prism/list-basic';
import { type Binding, implement } from '@prism/sdk';
import { bytesOf } from './basic.js';
import type { SqliteStore } from './store.js';

/** The list interfaces this adapter implements. */
export const LIST_INTERFACES = [ListBasic];

/**
 * Two tables shared by all namespaces (`namespace` leads each key):
 *   `prism_lists (namespace, key, head, tail)`       one row per existing list: its values sit at
 *                                                   positions head..tail (contiguous: values leave only at the ends)
 *   `prism_list_items (namespace, key, pos, value)`  one row per value, unique on (namespace, key, pos)
 * A push moves head or tail and inserts at the new positions; a pop deletes the row at head or tail; each
 * step is a B-tree lookup (O(log n)) and Length reads one row. Each operation is one IMMEDIATE transaction,
 * so concurrent writers (also other processes on the same file) serialise. A list whose last value is
 * popped loses its `prism_lists` row: it ceases to exist.
 */
const LIST_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS prism_lists (
    namespace TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    head      INTEGER NOT NULL,
    tail      INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID`,
  // A rowid table: values may be MiB-sized, which WITHOUT ROWID tables store poorly.
  `CREATE TABLE IF NOT EXISTS prism_list_items (
    namespace TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    pos       INTEGER NOT NULL,
    value     BLOB    NOT NULL,
    UNIQUE (namespace, key, pos)
  )`,
];

/** Creates the list tables if missing (run on start, after the store opened the database). */
export function ensureListSchema(store: SqliteStore): void {
  store.guard(() => {
    for (const ddl of LIST_SCHEMA) store.stmt(ddl).run();
  });
}

type Ends = { head: number; tail: number };

/** The lists of one namespace on SQLite (list_basic). */
export function lists(store: SqliteStore): { bindings: Binding[] } {
  const ns = store.namespace;
  const blob = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const ends = (key: string) =>
    store.stmt('SELECT head, tail FROM prism_lists WHERE namespace = ? AND key = ?').get(ns, key) as
      | Ends
      | undefined;

  /** Values go in one at a time: a left push puts values[i] at head - 1 - i (the last ends up at the head). */
  const push = (key: string, values: readonly Uint8Array[], left: boolean) =>
    store.transaction(() => {
      const n = values.length;
      const old = ends(key);
      const head = old ? (left ? old.head - n : old.head) : left ? -n : 0;
      const tail = old ? (left ? old.tail : old.tail + n) : left ? -1 : n - 1;
      const insert = store.stmt(
        'INSERT INTO prism_list_items (namespace, key, pos, value) VALUES (?, ?, ?, ?)',
      );
      values.forEach((v, i) => {
        insert.run(ns, key, left ? head + n - 1 - i : tail - n + 1 + i, blob(v));
      });
      store
        .stmt(
          `INSERT INTO prism_lists (namespace, key, head, tail) VALUES (?, ?, ?, ?)
           ON CONFLICT (namespace, key) DO UPDATE SET head = excluded.head, tail = excluded.tail`,
        )
        .run(ns, key, head, tail);
      return { length: BigInt(tail - head + 1) };
    });

  const pop = (key: string, left: boolean) =>
    store.transaction(() => {
      const e = ends(key);
      if (!e) return { found: false };
      const row = store
        .stmt('DELETE FROM prism_list_items WHERE namespace = ? AND key = ? AND pos = ? RETURNING value')
        .get(ns, key, left ? e.head : e.tail) as { value: Buffer } | undefined;
      if (e.head === e.tail)
        store.stmt('DELETE FROM prism_lists WHERE namespace = ? AND key = ?').run(ns, key);
      else
        store
          .stmt(
            `UPDATE prism_lists SET ${left ? 'head = head + 1' : 'tail = tail - 1'} WHERE namespace = ? AND key = ?`,
          )
          .run(ns, key);
      return row ? { found: true, value: bytesOf(row.value) } : { found: false };
    });

  const basic: ListBasicImpl = {
    pushLeft: (req) => push(req.key, req.values, true),
    pushRight: (req) => push(req.key, req.values, false),
    popLeft: (req) => pop(req.key, true),
    popRight: (req) => pop(req.key, false),
    length: (req) =>
      store.guard(() => {
        const e = ends(req.key);
        return { length: BigInt(e ? e.tail - e.head + 1 : 0) };
      }),
  };
  return { bindings: [implement(ListBasic, basic)] };
}
