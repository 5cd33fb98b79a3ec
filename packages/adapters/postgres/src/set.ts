import { type Binding, type CallContext, implement } from '@prism/sdk';
import { effectiveBatchSize, inBatches, SetBasic, type SetBasicImpl } from '@prism/set-basic';
import { SetCardinality, type SetCardinalityImpl } from '@prism/set-cardinality';
import { type SetOp, SetOperations, type SetOperationsImpl } from '@prism/set-operations';
import { SetRandom, type SetRandomImpl } from '@prism/set-random';
import type { TransactionSql } from 'postgres';
import type { PgClient, Sql } from './client.js';
import { ensureSchemaObjects } from './ddl.js';
import { bytesOf } from './kv-basic.js';

/** The set interfaces this adapter implements. */
export const SET_INTERFACES = [SetBasic, SetOperations, SetCardinality, SetRandom];

/**
 * One row per member, in `<schema>.set_members`, shared by all namespaces (`namespace` leads the key). The
 * primary key is (namespace, key, digest) with digest = sha256(member): a btree entry cannot hold a member
 * of several MiB, the digest can, and every lookup, delete and keyset page goes through that index. A set
 * is its rows; with no rows it does not exist.
 */
export async function ensureSetSchema(client: PgClient): Promise<void> {
  await ensureSchemaObjects(client, client.config.schema, (schema) => [
    `
        CREATE TABLE IF NOT EXISTS ${schema}."set_members" (
          namespace text COLLATE "C" NOT NULL,
          key       text COLLATE "C" NOT NULL,
          member    bytea NOT NULL,
          digest    bytea GENERATED ALWAYS AS (sha256(member)) STORED,
          PRIMARY KEY (namespace, key, digest)
        )`,
  ]);
}

/** Members as one jsonb parameter of base64 strings (one prepared statement for any count). */
const membersParam = (sql: Sql, members: readonly Uint8Array[]) =>
  sql.json(members.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64')));

type MemberRow = { member: Buffer };

// Writers of one (namespace, key) that must see each other's results — Store into it, Pop from it — take
// the transaction-scoped advisory lock (hashtext(namespace), hashtext(key)); a hash collision only
// serialises two unrelated keys.

/** The set part of the adapter: bindings and the start-up step. */
export function sets(client: PgClient): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(`${client.config.schema}.set_members`);

  /** The members of the decoded jsonb parameter, as a row source `m(member)`. */
  const decoded = (param: ReturnType<typeof membersParam>) =>
    sql`SELECT decode(x, 'base64') AS member FROM jsonb_array_elements_text(${param}::jsonb) AS x`;

  /** The query of one set operation over `keys`: SQL UNION / INTERSECT / EXCEPT of the per-key selects. */
  const operation = (q: Sql | TransactionSql, op: SetOp, keys: readonly string[]) => {
    const parts = keys.map((k) => q`SELECT member FROM ${t} WHERE namespace = ${ns} AND key = ${k}`);
    if (op === 'union') return parts.reduce((a, b) => q`${a} UNION ${b}`);
    if (op === 'intersect') return parts.reduce((a, b) => q`${a} INTERSECT ${b}`);
    return parts.reduce((a, b) => q`${a} EXCEPT ${b}`);
  };

  const basic: SetBasicImpl = {
    async add(req, ctx) {
      const rows = await client.run(
        sql`INSERT INTO ${t} (namespace, key, member)
          SELECT ${ns}, ${req.key}, m.member FROM (${decoded(membersParam(sql, req.members))}) AS m
          ON CONFLICT (namespace, key, digest) DO NOTHING RETURNING 1`,
        ctx,
      );
      return { added: BigInt(rows.length) };
    },
    async remove(req, ctx) {
      const rows = await client.run(
        sql`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          AND digest IN (SELECT sha256(m.member) FROM (${decoded(membersParam(sql, req.members))}) AS m)
          RETURNING 1`,
        ctx,
      );
      return { removed: BigInt(rows.length) };
    },
    async isMember(req, ctx) {
      const rows = await client.run(
        sql`SELECT 1 FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          AND digest = sha256(${Buffer.from(req.member)}::bytea) AND member = ${Buffer.from(req.member)}::bytea`,
        ctx,
      );
      return { isMember: rows.length > 0 };
    },
    /** Keyset pages in digest order, one indexed query per batch, issued as the client asks for more. */
    async *members(req, ctx: CallContext) {
      const batchSize = effectiveBatchSize(req.batchSize);
      let after: Buffer | undefined;
      for (;;) {
        const rows = await client.run(
          sql<(MemberRow & { digest: Buffer })[]>`SELECT member, digest FROM ${t}
            WHERE namespace = ${ns} AND key = ${req.key}
            ${after === undefined ? sql`` : sql`AND digest > ${after}::bytea`}
            ORDER BY digest LIMIT ${batchSize}`,
          ctx,
        );
        if (rows.length > 0) yield { members: rows.map((r) => bytesOf(r.member)) };
        if (rows.length < batchSize || ctx.signal.aborted) return;
        after = rows.at(-1)!.digest;
      }
    },
  };

  const stream = (op: SetOp) =>
    async function* (req: { keys: string[]; batchSize: number }, ctx: CallContext) {
      const rows = await client.run(sql<MemberRow[]>`${operation(sql, op, req.keys)}`, ctx);
      yield* inBatches(
        rows.map((r) => bytesOf(r.member)),
        effectiveBatchSize(req.batchSize),
        ctx.signal,
      );
    };
  // One transaction, serialised per destination: the result is computed from one snapshot, then rows of
  // destination outside it are deleted and the missing ones inserted (in one statement, so a destination
  // that is also an input is read before it changes); an empty result leaves no rows, i.e. no set.
  const store = (op: SetOp) => async (req: { destination: string; keys: string[] }, ctx: CallContext) => {
    const n = await client.run(
      sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${ns}), hashtext(${req.destination}))`;
        const [row] = await tx<{ n: number }[]>`
            WITH res AS MATERIALIZED (${operation(tx, op, req.keys)}),
            del AS (
              DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.destination}
              AND digest NOT IN (SELECT sha256(member) FROM res)
            ),
            ins AS (
              INSERT INTO ${t} (namespace, key, member) SELECT ${ns}, ${req.destination}, member FROM res
              ON CONFLICT (namespace, key, digest) DO NOTHING
            )
            SELECT count(*)::int AS n FROM res`;
        return row?.n ?? 0;
      }),
      ctx,
    );
    return { cardinality: BigInt(n) };
  };
  const operations: SetOperationsImpl = {
    union: stream('union'),
    intersect: stream('intersect'),
    difference: stream('difference'),
    unionStore: store('union'),
    intersectStore: store('intersect'),
    differenceStore: store('difference'),
  };

  const cardinality: SetCardinalityImpl = {
    async card(req, ctx) {
      const [row] = await client.run(
        sql<{ n: string }[]>`SELECT count(*) AS n FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}`,
        ctx,
      );
      return { cardinality: BigInt(row?.n ?? 0) };
    },
    async multiIsMember(req, ctx) {
      const rows = await client.run(
        sql<MemberRow[]>`SELECT member FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          AND digest IN (SELECT sha256(m.member) FROM (${decoded(membersParam(sql, req.members))}) AS m)`,
        ctx,
      );
      const present = new Set(rows.map((r) => r.member.toString('base64')));
      return {
        isMember: req.members.map((m) =>
          present.has(Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64')),
        ),
      };
    },
  };

  const random: SetRandomImpl = {
    async randomMember(req, ctx) {
      const rows = await client.run(
        sql<MemberRow[]>`SELECT member FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
          ORDER BY random() LIMIT ${req.count}`,
        ctx,
      );
      return { members: rows.map((r) => bytesOf(r.member)) };
    },
    // Pops of one set are serialised, so each sees what the previous one left: every member goes to
    // exactly one caller and a pop answers min(count, cardinality) members.
    async pop(req, ctx) {
      const rows = await client.run(
        sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${ns}), hashtext(${req.key}))`;
          return tx<MemberRow[]>`DELETE FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
            AND digest IN (SELECT digest FROM ${t} WHERE namespace = ${ns} AND key = ${req.key}
              ORDER BY random() LIMIT ${req.count})
            RETURNING member`;
        }),
        ctx,
      );
      return { members: rows.map((r) => bytesOf(r.member)) };
    },
  };

  return {
    bindings: [
      implement(SetBasic, basic),
      implement(SetOperations, operations),
      implement(SetCardinality, cardinality),
      implement(SetRandom, random),
    ],
    start: () => ensureSetSchema(client),
  };
}
