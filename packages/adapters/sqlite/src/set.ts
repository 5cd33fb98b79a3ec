import { type Binding, type CallContext, implement } from '@prism/sdk';
import { effectiveBatchSize, inBatches, SetBasic, type SetBasicImpl } from '@prism/set-basic';
import { SetCardinality, type SetCardinalityImpl } from '@prism/set-cardinality';
import { type SetOp, SetOperations, type SetOperationsImpl } from '@prism/set-operations';
import { SetRandom, type SetRandomImpl } from '@prism/set-random';
import { bytesOf } from './basic.js';
import type { SqliteStore } from './store.js';

/** The set interfaces this adapter implements. */
export const SET_INTERFACES = [SetBasic, SetOperations, SetCardinality, SetRandom];

/**
 * One row per member, shared by all namespaces (`namespace` leads the primary key). BLOBs compare with
 * memcmp, so members are byte-exact; a set is its rows, and with none it does not exist.
 */
const SET_SCHEMA = `CREATE TABLE IF NOT EXISTS prism_set_members (
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  member    BLOB NOT NULL,
  PRIMARY KEY (namespace, key, member)
)`;

/** Creates the members table if missing (run on start, after the store opened the database). */
export function ensureSetSchema(store: SqliteStore): void {
  store.guard(() => store.stmt(SET_SCHEMA).run());
}

type MemberRow = { member: Buffer };

const COMPOUND: Record<SetOp, string> = { union: 'UNION', intersect: 'INTERSECT', difference: 'EXCEPT' };
const PART = 'SELECT member FROM prism_set_members WHERE namespace = ? AND key = ?';

/** The sets of one namespace on SQLite: synchronous statements, multi-row writes in one transaction. */
export function sets(store: SqliteStore): { bindings: Binding[] } {
  const ns = store.namespace;
  const blob = (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength);

  /** One compound SELECT (UNION / INTERSECT / EXCEPT) over the keys; rows of one snapshot. */
  const compute = (op: SetOp, keys: readonly string[]): MemberRow[] =>
    store
      .stmt(keys.map(() => PART).join(` ${COMPOUND[op]} `))
      .all(...keys.flatMap((k) => [ns, k])) as MemberRow[];

  const basic: SetBasicImpl = {
    add: (req) =>
      store.transaction(() => {
        const insert = store.stmt(
          'INSERT INTO prism_set_members (namespace, key, member) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        );
        let added = 0;
        for (const m of req.members) added += insert.run(ns, req.key, blob(m)).changes;
        return { added: BigInt(added) };
      }),
    remove: (req) =>
      store.transaction(() => {
        const del = store.stmt(
          'DELETE FROM prism_set_members WHERE namespace = ? AND key = ? AND member = ?',
        );
        let removed = 0;
        for (const m of req.members) removed += del.run(ns, req.key, blob(m)).changes;
        return { removed: BigInt(removed) };
      }),
    isMember: (req) =>
      store.guard(() => ({
        isMember:
          store
            .stmt('SELECT 1 FROM prism_set_members WHERE namespace = ? AND key = ? AND member = ?')
            .get(ns, req.key, blob(req.member)) !== undefined,
      })),
    /** Keyset pages in member (byte) order: one indexed query per batch, run as the client reads. */
    async *members(req, ctx: CallContext) {
      const batchSize = effectiveBatchSize(req.batchSize);
      let after: Buffer | undefined;
      for (;;) {
        const rows = store.guard(
          () =>
            (after === undefined
              ? store.stmt(`${PART} ORDER BY member LIMIT ?`).all(ns, req.key, batchSize)
              : store
                  .stmt(`${PART} AND member > ? ORDER BY member LIMIT ?`)
                  .all(ns, req.key, after, batchSize)) as MemberRow[],
        );
        if (rows.length > 0) yield { members: rows.map((r) => bytesOf(r.member)) };
        if (rows.length < batchSize || ctx.signal.aborted) return;
        after = rows.at(-1)!.member;
      }
    },
  };

  const stream = (op: SetOp) => (req: { keys: string[]; batchSize: number }, ctx: CallContext) =>
    inBatches(
      store.guard(() => compute(op, req.keys)).map((r) => bytesOf(r.member)),
      effectiveBatchSize(req.batchSize),
      ctx.signal,
    );
  // One IMMEDIATE transaction: the result is read first (so the destination may be an input), then the
  // destination's rows are replaced; an empty result leaves no rows.
  const storeOp = (op: SetOp) => (req: { destination: string; keys: string[] }) =>
    store.transaction(() => {
      const rows = compute(op, req.keys);
      store.stmt('DELETE FROM prism_set_members WHERE namespace = ? AND key = ?').run(ns, req.destination);
      const insert = store.stmt('INSERT INTO prism_set_members (namespace, key, member) VALUES (?, ?, ?)');
      for (const r of rows) insert.run(ns, req.destination, r.member);
      return { cardinality: BigInt(rows.length) };
    });
  const operations: SetOperationsImpl = {
    union: stream('union'),
    intersect: stream('intersect'),
    difference: stream('difference'),
    unionStore: storeOp('union'),
    intersectStore: storeOp('intersect'),
    differenceStore: storeOp('difference'),
  };

  const cardinality: SetCardinalityImpl = {
    card: (req) =>
      store.guard(() => {
        const row = store
          .stmt('SELECT count(*) AS n FROM prism_set_members WHERE namespace = ? AND key = ?')
          .get(ns, req.key) as { n: number };
        return { cardinality: BigInt(row.n) };
      }),
    multiIsMember: (req) =>
      store.transaction(() => {
        const probe = store.stmt(
          'SELECT 1 FROM prism_set_members WHERE namespace = ? AND key = ? AND member = ?',
        );
        return { isMember: req.members.map((m) => probe.get(ns, req.key, blob(m)) !== undefined) };
      }, 'deferred'),
  };

  const random: SetRandomImpl = {
    randomMember: (req) =>
      store.guard(() => ({
        members: (
          store.stmt(`${PART} ORDER BY random() LIMIT ?`).all(ns, req.key, req.count) as MemberRow[]
        ).map((r) => bytesOf(r.member)),
      })),
    pop: (req) =>
      store.transaction(() => {
        const rows = store
          .stmt(`${PART} ORDER BY random() LIMIT ?`)
          .all(ns, req.key, req.count) as MemberRow[];
        const del = store.stmt(
          'DELETE FROM prism_set_members WHERE namespace = ? AND key = ? AND member = ?',
        );
        for (const r of rows) del.run(ns, req.key, r.member);
        return { members: rows.map((r) => bytesOf(r.member)) };
      }),
  };

  return {
    bindings: [
      implement(SetBasic, basic),
      implement(SetOperations, operations),
      implement(SetCardinality, cardinality),
      implement(SetRandom, random),
    ],
  };
}
