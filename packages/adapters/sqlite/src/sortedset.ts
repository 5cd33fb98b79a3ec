import { type Binding, implement } from '@prism/sdk';
import {
  effectiveLimit,
  MAX_RANGE_ENTRIES,
  memberId,
  planAdd,
  SortedSetBasic,
  type SortedSetBasicImpl,
} from '@prism/sortedset-basic';
import { type LexBound, SortedSetLex, type SortedSetLexImpl } from '@prism/sortedset-lex';
import {
  combinedAnswer,
  combineSources,
  SortedSetOperations,
  type SortedSetOperationsImpl,
  type SourceMembers,
} from '@prism/sortedset-operations';
import {
  resolveMax,
  resolveMin,
  resolveRanks,
  type ScoreBound,
  SortedSetRange,
  type SortedSetRangeImpl,
} from '@prism/sortedset-range';
import { SortedSetRank, type SortedSetRankImpl } from '@prism/sortedset-rank';
import { bytesOf } from './basic.js';
import type { SqliteStore } from './store.js';

/** The sorted-set interfaces this adapter implements. */
export const SORTED_SET_INTERFACES = [
  SortedSetBasic,
  SortedSetRange,
  SortedSetRank,
  SortedSetOperations,
  SortedSetLex,
];

/**
 * One row per member, shared by all namespaces (`namespace` leads both keys). REAL holds ±Inf; BLOBs compare
 * with memcmp (unsigned bytes, a proper prefix first), so ORDER BY score, member is sorted-set order and the
 * order index serves it. A sorted set is its rows; with none it does not exist.
 */
const ZSET_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS prism_zset_members (
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  member    BLOB NOT NULL,
  score     REAL NOT NULL,
  PRIMARY KEY (namespace, key, member)
)`,
  'CREATE INDEX IF NOT EXISTS prism_zset_members_order ON prism_zset_members (namespace, key, score, member)',
];

/** Creates the sorted-set table and its order index if missing (run on start, after the store opened). */
export function ensureSortedSetSchema(store: SqliteStore): void {
  store.guard(() => {
    for (const ddl of ZSET_SCHEMA) store.stmt(ddl).run();
  });
}

type Row = { member: Buffer; score: number };
const entry = (r: Row) => ({ member: bytesOf(r.member), score: r.score });
const blob = (m: Uint8Array) => Buffer.from(m.buffer, m.byteOffset, m.byteLength);

const T = 'prism_zset_members';
const OF_KEY = `FROM ${T} WHERE namespace = ? AND key = ?`;
const ORDER = (reverse: boolean) => (reverse ? 'ORDER BY score DESC, member DESC' : 'ORDER BY score, member');

/** SQL and parameters of a score interval (unset bounds are ±inf). */
function scoreWhere(req: { min?: ScoreBound | undefined; max?: ScoreBound | undefined }): [string, number[]] {
  const min = resolveMin(req.min);
  const max = resolveMax(req.max);
  return [
    `score ${min.exclusive ? '>' : '>='} ? AND score ${max.exclusive ? '<' : '<='} ?`,
    [min.value, max.value],
  ];
}

/** SQL and parameters of a lex interval (unset bounds are unbounded). */
function lexWhere(req: { min?: LexBound | undefined; max?: LexBound | undefined }): [string, Buffer[]] {
  const cond = ['1'];
  const params: Buffer[] = [];
  if (req.min) {
    cond.push(`member ${req.min.exclusive ? '>' : '>='} ?`);
    params.push(blob(req.min.value));
  }
  if (req.max) {
    cond.push(`member ${req.max.exclusive ? '<' : '<='} ?`);
    params.push(blob(req.max.value));
  }
  return [cond.join(' AND '), params];
}

/** The sorted sets of one namespace on SQLite: synchronous statements, writes in one IMMEDIATE transaction. */
export function sortedSets(store: SqliteStore): { bindings: Binding[] } {
  const ns = store.namespace;

  const scoreOf = (key: string, member: Uint8Array) =>
    (
      store.stmt(`SELECT score ${OF_KEY} AND member = ?`).get(ns, key, blob(member)) as
        | { score: number }
        | undefined
    )?.score;
  const upsert = (key: string, member: Uint8Array, score: number) =>
    store
      .stmt(
        `INSERT INTO ${T} (namespace, key, member, score) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, key, member) DO UPDATE SET score = excluded.score`,
      )
      .run(ns, key, blob(member), score);

  const basic: SortedSetBasicImpl = {
    // ZADD rules applied by the adapter (planAdd, shared with MemStore) inside one IMMEDIATE transaction.
    add: (req) =>
      store.transaction(() => {
        const current = new Map<string, number | undefined>();
        for (const e of req.entries) current.set(memberId(e.member), scoreOf(req.key, e.member));
        const plan = planAdd(req, (id) => current.get(id));
        for (const w of plan.writes.values()) upsert(req.key, w.member, w.score);
        return plan.score === undefined
          ? { count: BigInt(plan.count) }
          : { count: BigInt(plan.count), score: plan.score };
      }),
    remove: (req) =>
      store.transaction(() => {
        const del = store.stmt(`DELETE ${OF_KEY} AND member = ?`);
        let removed = 0;
        for (const m of req.members) removed += del.run(ns, req.key, blob(m)).changes;
        return { removed: BigInt(removed) };
      }),
    score: (req) =>
      store.guard(() => {
        const score = scoreOf(req.key, req.member);
        return score === undefined ? { found: false } : { found: true, score };
      }),
    card: (req) =>
      store.guard(() => ({
        count: BigInt((store.stmt(`SELECT count(*) AS n ${OF_KEY}`).get(ns, req.key) as { n: number }).n),
      })),
  };

  const range: SortedSetRangeImpl = {
    rangeByScore: (req) =>
      store.guard(() => {
        const limit = effectiveLimit(req.limit);
        const [where, params] = scoreWhere(req);
        const rows = store
          .stmt(`SELECT member, score ${OF_KEY} AND ${where} ${ORDER(req.reverse)} LIMIT ? OFFSET ?`)
          .all(ns, req.key, ...params, limit + 1, req.offset) as Row[];
        return { entries: rows.slice(0, limit).map(entry), more: rows.length > limit };
      }),
    // Cardinality and page in one read transaction, so negative ranks resolve against one snapshot.
    rangeByRank: (req) =>
      store.transaction(() => {
        const card = (store.stmt(`SELECT count(*) AS n ${OF_KEY}`).get(ns, req.key) as { n: number }).n;
        const span = resolveRanks(Number(req.start), Number(req.stop), card);
        if (!span) return { entries: [], more: false };
        const n = Math.min(span.to - span.from + 1, MAX_RANGE_ENTRIES + 1);
        const rows = store
          .stmt(`SELECT member, score ${OF_KEY} ${ORDER(req.reverse)} LIMIT ? OFFSET ?`)
          .all(ns, req.key, n, span.from) as Row[];
        return {
          entries: rows.slice(0, MAX_RANGE_ENTRIES).map(entry),
          more: rows.length > MAX_RANGE_ENTRIES,
        };
      }, 'deferred'),
    countByScore: (req) =>
      store.guard(() => {
        const [where, params] = scoreWhere(req);
        const row = store.stmt(`SELECT count(*) AS n ${OF_KEY} AND ${where}`).get(ns, req.key, ...params) as {
          n: number;
        };
        return { count: BigInt(row.n) };
      }),
  };

  /** Rows ordered before (or, reversed, after) the member, counted through the order index. */
  const rankOf = (key: string, member: Uint8Array, reverse: boolean) =>
    store.transaction(() => {
      const score = scoreOf(key, member);
      if (score === undefined) return { found: false };
      const op = reverse ? '>' : '<';
      const row = store
        .stmt(`SELECT count(*) AS n ${OF_KEY} AND (score ${op} ? OR (score = ? AND member ${op} ?))`)
        .get(ns, key, score, score, blob(member)) as { n: number };
      return { found: true, rank: BigInt(row.n) };
    }, 'deferred');
  const rank: SortedSetRankImpl = {
    rank: (req) => rankOf(req.key, req.member, false),
    revRank: (req) => rankOf(req.key, req.member, true),
  };

  const lex: SortedSetLexImpl = {
    rangeByLex: (req) =>
      store.guard(() => {
        const limit = effectiveLimit(req.limit);
        const [where, params] = lexWhere(req);
        const rows = store
          .stmt(`SELECT member, score ${OF_KEY} AND ${where} ${ORDER(req.reverse)} LIMIT ? OFFSET ?`)
          .all(ns, req.key, ...params, limit + 1, req.offset) as Row[];
        return { members: rows.slice(0, limit).map((r) => bytesOf(r.member)), more: rows.length > limit };
      }),
    lexCount: (req) =>
      store.guard(() => {
        const [where, params] = lexWhere(req);
        const row = store.stmt(`SELECT count(*) AS n ${OF_KEY} AND ${where}`).get(ns, req.key, ...params) as {
          n: number;
        };
        return { count: BigInt(row.n) };
      }),
  };

  /** Each request key's members (read inside the caller's transaction, so one snapshot). */
  const sources = (keys: readonly string[]): SourceMembers[] => {
    const byKey = new Map<string, SourceMembers>();
    for (const k of new Set(keys)) {
      const rows = store.stmt(`SELECT member, score ${OF_KEY}`).all(ns, k) as Row[];
      byKey.set(k, new Map(rows.map((r) => [memberId(r.member), entry(r)])));
    }
    return keys.map((k) => byKey.get(k)!);
  };
  // Combined in the adapter with the arithmetic shared with MemStore (weights, SUM/MIN/MAX, NaN as 0);
  // Store reads and replaces the destination in one IMMEDIATE transaction (it may be one of the sources).
  const storeOp =
    (intersect: boolean) =>
    (req: { destination: string; keys: string[]; weights: number[]; aggregate: number }) =>
      store.transaction(() => {
        const result = combineSources(sources(req.keys), req, intersect);
        store.stmt(`DELETE ${OF_KEY}`).run(ns, req.destination);
        for (const e of result.values()) upsert(req.destination, e.member, e.score);
        return { count: BigInt(result.size) };
      });
  const readOp =
    (intersect: boolean) => (req: { keys: string[]; weights: number[]; aggregate: number; limit: number }) =>
      store.transaction(
        () => combinedAnswer(combineSources(sources(req.keys), req, intersect), req.limit),
        'deferred',
      );
  const operations: SortedSetOperationsImpl = {
    unionStore: storeOp(false),
    intersectStore: storeOp(true),
    union: readOp(false),
    intersect: readOp(true),
  };

  return {
    bindings: [
      implement(SortedSetBasic, basic),
      implement(SortedSetRange, range),
      implement(SortedSetRank, rank),
      implement(SortedSetOperations, operations),
      implement(SortedSetLex, lex),
    ],
  };
}
