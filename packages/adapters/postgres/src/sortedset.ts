import { type Binding, type CallContext, implement } from '@prism/sdk';
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
import type { TransactionSql } from 'postgres';
import type { PgClient, Sql } from './client.js';
import { ensureSchemaObjects } from './ddl.js';
import { bytesOf } from './kv-basic.js';

/** The sorted-set interfaces this adapter implements. */
export const SORTED_SET_INTERFACES = [
  SortedSetBasic,
  SortedSetRange,
  SortedSetRank,
  SortedSetOperations,
  SortedSetLex,
];

/** Bytes of a member kept in the order index (a btree entry cannot hold a member of several MiB). */
const PREFIX_BYTES = 64;

/**
 * One row per member, in `<schema>.zset_members`, shared by all namespaces (`namespace` leads each key):
 * primary key (namespace, key, digest) with digest = sha256(member) for member lookups, and the order
 * index (namespace, key, score, prefix) with prefix = the member's first 64 bytes. Sorted-set order is
 * ORDER BY score, prefix, member: bytea compares unsigned bytewise with a proper prefix first, so
 * (score, prefix, member) orders exactly like (score, member), the index serves it, and ties beyond 64
 * equal bytes are finished by an incremental sort. float8 holds ±Infinity. A sorted set is its rows.
 */
export async function ensureSortedSetSchema(client: PgClient): Promise<void> {
  await ensureSchemaObjects(client, client.config.schema, (schema) => [
    `
        CREATE TABLE IF NOT EXISTS ${schema}."zset_members" (
          namespace text COLLATE "C" NOT NULL,
          key       text COLLATE "C" NOT NULL,
          member    bytea NOT NULL,
          score     double precision NOT NULL,
          digest    bytea GENERATED ALWAYS AS (sha256(member)) STORED,
          prefix    bytea GENERATED ALWAYS AS (substring(member from 1 for ${PREFIX_BYTES})) STORED,
          PRIMARY KEY (namespace, key, digest)
        )`,
    `
        CREATE INDEX IF NOT EXISTS "zset_members_order"
          ON ${schema}."zset_members" (namespace, key, score, prefix)`,
  ]);
}

/** A double as float8 text input ('Infinity', '-Infinity', or the round-trip form). */
const float = (n: number): string => String(n);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const b64 = (b: Uint8Array): string => buf(b).toString('base64');

type Row = { member: Buffer; score: number };
const entry = (r: Row) => ({ member: bytesOf(r.member), score: Number(r.score) });

/** The sorted-set part of the adapter: bindings and the start-up step. */
export function sortedSets(client: PgClient): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(`${client.config.schema}.zset_members`);

  /** Members as one jsonb parameter of base64 strings, decoded to a row source `m(member)`. */
  const decoded = (q: Sql | TransactionSql, members: readonly Uint8Array[]) =>
    q`SELECT decode(x, 'base64') AS member FROM jsonb_array_elements_text(${sql.json(members.map(b64))}::jsonb) AS x`;

  /** Writers of one (namespace, key) serialise on a transaction-scoped advisory lock. */
  const lock = (tx: TransactionSql, key: string) =>
    tx`SELECT pg_advisory_xact_lock(hashtext(${ns}), hashtext(${`zset/${key}`}))`;

  /** Upserts final scores of members (base64 member, float8 text score pairs) in one statement. */
  const upsert = (
    tx: TransactionSql,
    key: string,
    writes: Iterable<{ member: Uint8Array; score: number }>,
  ) => {
    const rows = [...writes].map((w) => [b64(w.member), float(w.score)]);
    return tx`INSERT INTO ${t} (namespace, key, member, score)
      SELECT ${ns}, ${key}, decode(x->>0, 'base64'), (x->>1)::float8
      FROM jsonb_array_elements(${sql.json(rows)}::jsonb) AS x
      ON CONFLICT (namespace, key, digest) DO UPDATE SET score = EXCLUDED.score`;
  };

  const basic: SortedSetBasicImpl = {
    // Reads the current scores of the request's members under the key's lock, applies ZADD semantics
    // (planAdd, shared with MemStore) and writes the changed members: one transaction.
    async add(req, ctx) {
      const plan = await client.run(
        sql.begin(async (tx) => {
          await lock(tx, req.key);
          const rows = await tx<Row[]>`SELECT member, score FROM ${t}
            WHERE namespace = ${ns} AND key = ${req.key}
            AND digest IN (SELECT sha256(m.member) FROM (${decoded(
              tx,
              req.entries.map((e) => e.member),
            )}) AS m)`;
          const current = new Map(rows.map((r) => [memberId(r.member), Number(r.score)]));
          const p = planAdd(req, (id) => current.get(id));
          if (p.writes.size > 0) await upsert(tx, req.key, p.writes.values());
          return p;
        }),
        ctx,
      );
      return plan.score === undefined
        ? { count: BigInt(plan.count) }
        : { count: BigInt(plan.count), score: plan.score };
    },
    async remove(req, ctx) {
      const rows = await client.run(
        sql`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          AND digest IN (SELECT sha256(m.member) FROM (${decoded(sql, req.members)}) AS m)
          RETURNING 1`,
        ctx,
      );
      return { removed: BigInt(rows.length) };
    },
    async score(req, ctx) {
      const [row] = await client.run(
        sql<Row[]>`SELECT member, score FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          AND digest = sha256(${buf(req.member)}::bytea)`,
        ctx,
      );
      return row ? { found: true, score: Number(row.score) } : { found: false };
    },
    async card(req, ctx) {
      const [row] = await client.run(
        sql<{ n: string }[]>`SELECT count(*) AS n FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}`,
        ctx,
      );
      return { count: BigInt(row?.n ?? 0) };
    },
  };

  const order = (reverse: boolean) =>
    reverse ? sql`ORDER BY score DESC, prefix DESC, member DESC` : sql`ORDER BY score, prefix, member`;
  /** The score interval as SQL conditions. */
  const scoreWhere = (req: { min?: ScoreBound | undefined; max?: ScoreBound | undefined }) => {
    const min = resolveMin(req.min);
    const max = resolveMax(req.max);
    return sql`${min.exclusive ? sql`score > ${float(min.value)}::float8` : sql`score >= ${float(min.value)}::float8`}
      AND ${max.exclusive ? sql`score < ${float(max.value)}::float8` : sql`score <= ${float(max.value)}::float8`}`;
  };

  const range: SortedSetRangeImpl = {
    async rangeByScore(req, ctx) {
      const limit = effectiveLimit(req.limit);
      const rows = await client.run(
        sql<
          Row[]
        >`SELECT member, score FROM ${t} WHERE namespace = ${ns} AND key = ${req.key} AND ${scoreWhere(req)}
          ${order(req.reverse)} OFFSET ${req.offset} LIMIT ${limit + 1}`,
        ctx,
      );
      return { entries: rows.slice(0, limit).map(entry), more: rows.length > limit };
    },
    // Cardinality and page from one snapshot (REPEATABLE READ), so negative ranks resolve consistently.
    async rangeByRank(req, ctx) {
      const rows: Row[] = await client.run(
        sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx): Promise<Row[]> => {
          const [c] = await tx<{ n: string }[]>`SELECT count(*) AS n FROM ${t}
            WHERE namespace = ${ns} AND key = ${req.key}`;
          const span = resolveRanks(Number(req.start), Number(req.stop), Number(c?.n ?? 0));
          if (!span) return [] as Row[];
          const n = Math.min(span.to - span.from + 1, MAX_RANGE_ENTRIES + 1);
          return tx<Row[]>`SELECT member, score FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
            ${order(req.reverse)} OFFSET ${span.from} LIMIT ${n}`;
        }),
        ctx,
      );
      return { entries: rows.slice(0, MAX_RANGE_ENTRIES).map(entry), more: rows.length > MAX_RANGE_ENTRIES };
    },
    async countByScore(req, ctx) {
      const [row] = await client.run(
        sql<{ n: string }[]>`SELECT count(*) AS n FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND ${scoreWhere(req)}`,
        ctx,
      );
      return { count: BigInt(row?.n ?? 0) };
    },
  };

  /** How many members order before (or, reversed, after) the member; undefined when it is missing. */
  const rankOf = async (key: string, member: Uint8Array, reverse: boolean, ctx: CallContext) => {
    const [row] = await client.run(
      sql<{ n: string }[]>`SELECT (SELECT count(*) FROM ${t} o WHERE o.namespace = ${ns} AND o.key = ${key}
          AND ${reverse ? sql`(o.score, o.prefix, o.member) > (me.score, me.prefix, me.member)` : sql`(o.score, o.prefix, o.member) < (me.score, me.prefix, me.member)`}) AS n
        FROM ${t} me WHERE me.namespace = ${ns} AND me.key = ${key} AND me.digest = sha256(${buf(member)}::bytea)`,
      ctx,
    );
    return row ? { found: true, rank: BigInt(row.n) } : { found: false };
  };
  const rank: SortedSetRankImpl = {
    rank: (req, ctx) => rankOf(req.key, req.member, false, ctx),
    revRank: (req, ctx) => rankOf(req.key, req.member, true, ctx),
  };

  /** The lex interval as SQL conditions; the prefix conditions only let the order index narrow the scan. */
  const lexWhere = (req: { min?: LexBound | undefined; max?: LexBound | undefined }) => {
    const cond = [sql`TRUE`];
    if (req.min) {
      const v = buf(req.min.value);
      cond.push(sql`prefix >= substring(${v}::bytea from 1 for ${PREFIX_BYTES})`);
      cond.push(req.min.exclusive ? sql`member > ${v}::bytea` : sql`member >= ${v}::bytea`);
    }
    if (req.max) {
      const v = buf(req.max.value);
      cond.push(sql`prefix <= substring(${v}::bytea from 1 for ${PREFIX_BYTES})`);
      cond.push(req.max.exclusive ? sql`member < ${v}::bytea` : sql`member <= ${v}::bytea`);
    }
    return cond.reduce((a, b) => sql`${a} AND ${b}`);
  };
  const lex: SortedSetLexImpl = {
    async rangeByLex(req, ctx) {
      const limit = effectiveLimit(req.limit);
      const rows = await client.run(
        sql<
          Row[]
        >`SELECT member, score FROM ${t} WHERE namespace = ${ns} AND key = ${req.key} AND ${lexWhere(req)}
          ${order(req.reverse)} OFFSET ${req.offset} LIMIT ${limit + 1}`,
        ctx,
      );
      return { members: rows.slice(0, limit).map((r) => bytesOf(r.member)), more: rows.length > limit };
    },
    async lexCount(req, ctx) {
      const [row] = await client.run(
        sql<{ n: string }[]>`SELECT count(*) AS n FROM ${t}
          WHERE namespace = ${ns} AND key = ${req.key} AND ${lexWhere(req)}`,
        ctx,
      );
      return { count: BigInt(row?.n ?? 0) };
    },
  };

  /** The members of the distinct source keys, read in one statement, as one map per request key. */
  const sources = async (
    keys: readonly string[],
    at: { tx: TransactionSql } | { ctx: CallContext },
  ): Promise<SourceMembers[]> => {
    const distinct = [...new Set(keys)];
    const q = 'tx' in at ? at.tx : sql;
    const query = q<(Row & { key: string })[]>`SELECT key, member, score FROM ${t}
      WHERE namespace = ${ns} AND key IN ${sql(distinct)}`;
    const rows = 'tx' in at ? await query : await client.run(query, at.ctx);
    const byKey = new Map<string, Map<string, { member: Uint8Array; score: number }>>();
    for (const r of rows) {
      let m = byKey.get(r.key);
      if (!m) {
        m = new Map();
        byKey.set(r.key, m);
      }
      m.set(memberId(r.member), entry(r));
    }
    return keys.map((k) => byKey.get(k) ?? new Map());
  };
  // The combination is computed here (the arithmetic shared with MemStore, so NaN rules match Redis) from
  // one snapshot of the sources; Store then replaces the destination in the same transaction, under the
  // destination's lock (so it serialises with Add and with other Stores into it).
  const storeOp =
    (intersect: boolean) =>
    async (
      req: { destination: string; keys: string[]; weights: number[]; aggregate: number },
      ctx: CallContext,
    ) => {
      const n = await client.run(
        sql.begin(async (tx) => {
          await lock(tx, req.destination);
          const result = combineSources(await sources(req.keys, { tx }), req, intersect);
          await tx`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.destination}`;
          if (result.size > 0) await upsert(tx, req.destination, result.values());
          return result.size;
        }),
        ctx,
      );
      return { count: BigInt(n) };
    };
  const readOp =
    (intersect: boolean) =>
    async (req: { keys: string[]; weights: number[]; aggregate: number; limit: number }, ctx: CallContext) =>
      combinedAnswer(combineSources(await sources(req.keys, { ctx }), req, intersect), req.limit);
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
    start: () => ensureSortedSetSchema(client),
  };
}
