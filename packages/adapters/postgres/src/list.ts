import { ListBasic, type ListBasicImpl } from '@prism/list-basic';
import { type Binding, type CallContext, implement } from '@prism/sdk';
import type { PgClient, Sql } from './client.js';
import { ensureSchemaObjects } from './ddl.js';
import { bytesOf } from './kv-basic.js';

/** The list interfaces this adapter implements. */
export const LIST_INTERFACES = [ListBasic];

/**
 * Two tables in the configured schema, shared by all namespaces (`namespace` leads each key):
 *   `lists (namespace, key, head, tail)`           one row per existing list: its values sit at positions
 *                                                  head..tail (contiguous: values only leave at the ends)
 *   `list_items (namespace, key, pos, value)`      one row per value, primary key (namespace, key, pos)
 * A push at either end moves head or tail and inserts at the new positions; a pop deletes the row at head
 * or tail. Every step is a primary-key lookup (O(log n)), and Length is tail - head + 1 from one row. The
 * `lists` row is the list's lock: a push upserts it, a pop updates it, so writers of one list serialise on
 * that row. A list whose last value is popped loses its `lists` row, so it ceases to exist.
 */
export async function ensureListSchema(client: PgClient): Promise<void> {
  await ensureSchemaObjects(client, client.config.schema, (schema) => [
    `
        CREATE TABLE IF NOT EXISTS ${schema}."lists" (
          namespace text COLLATE "C" NOT NULL,
          key       text COLLATE "C" NOT NULL,
          head      bigint NOT NULL,
          tail      bigint NOT NULL,
          PRIMARY KEY (namespace, key)
        )`,
    `
        CREATE TABLE IF NOT EXISTS ${schema}."list_items" (
          namespace text COLLATE "C" NOT NULL,
          key       text COLLATE "C" NOT NULL,
          pos       bigint NOT NULL,
          value     bytea NOT NULL,
          PRIMARY KEY (namespace, key, pos)
        )`,
  ]);
}

/** Values as one jsonb parameter of base64 strings (one prepared statement for any count). */
const valuesParam = (sql: Sql, values: readonly Uint8Array[]) =>
  sql.json(values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')));

/** The list part of the adapter: bindings and the start-up step. */
export function lists(client: PgClient): { bindings: Binding[]; start(): Promise<void> } {
  const { sql } = client;
  const ns = client.namespace;
  const heads = sql(`${client.config.schema}.lists`);
  const items = sql(`${client.config.schema}.list_items`);

  /**
   * One statement: the upsert takes (or creates) the list row, locked, with its latest head/tail even when
   * it waited for a concurrent writer; the values go to the positions it made room for, in push order
   * (value i of a left push lands at new_head + n - i, so the last one ends up at the head).
   */
  const push = async (key: string, values: readonly Uint8Array[], left: boolean, ctx: CallContext) => {
    const n = values.length;
    const param = valuesParam(sql, values);
    const [row] = await client.run(
      left
        ? sql<{ length: string }[]>`
          WITH m AS (
            INSERT INTO ${heads} AS l (namespace, key, head, tail) VALUES (${ns}, ${key}, ${-n}, -1)
            ON CONFLICT (namespace, key) DO UPDATE SET head = l.head - ${n}
            RETURNING head, tail
          ), ins AS (
            INSERT INTO ${items} (namespace, key, pos, value)
            SELECT ${ns}, ${key}, m.head + ${n} - x.ord, decode(x.v, 'base64')
            FROM m, jsonb_array_elements_text(${param}::jsonb) WITH ORDINALITY AS x(v, ord)
          )
          SELECT (tail - head + 1)::text AS length FROM m`
        : sql<{ length: string }[]>`
          WITH m AS (
            INSERT INTO ${heads} AS l (namespace, key, head, tail) VALUES (${ns}, ${key}, 0, ${n - 1})
            ON CONFLICT (namespace, key) DO UPDATE SET tail = l.tail + ${n}
            RETURNING head, tail
          ), ins AS (
            INSERT INTO ${items} (namespace, key, pos, value)
            SELECT ${ns}, ${key}, m.tail - ${n} + x.ord, decode(x.v, 'base64')
            FROM m, jsonb_array_elements_text(${param}::jsonb) WITH ORDINALITY AS x(v, ord)
          )
          SELECT (tail - head + 1)::text AS length FROM m`,
      ctx,
    );
    return { length: BigInt(row?.length ?? 0) };
  };

  /**
   * One transaction of two statements: moving head (or tail) locks the list row and reads its latest
   * version; the value is then read in a new statement, whose snapshot includes everything committed before
   * the lock was granted (one statement would miss a value a concurrent push committed while it waited).
   */
  const pop = async (key: string, left: boolean, ctx: CallContext) => {
    const value = await client.run(
      sql.begin(async (tx) => {
        const [m] = left
          ? await tx<{ pos: string }[]>`UPDATE ${heads} SET head = head + 1
              WHERE namespace = ${ns} AND key = ${key} RETURNING (head - 1)::text AS pos`
          : await tx<{ pos: string }[]>`UPDATE ${heads} SET tail = tail - 1
              WHERE namespace = ${ns} AND key = ${key} RETURNING (tail + 1)::text AS pos`;
        if (!m) return undefined;
        const [row] = await tx<{ value: Buffer }[]>`
          WITH gone AS (
            DELETE FROM ${heads} WHERE namespace = ${ns} AND key = ${key} AND head > tail
          )
          DELETE FROM ${items} WHERE namespace = ${ns} AND key = ${key} AND pos = ${m.pos}::bigint
          RETURNING value`;
        return row?.value;
      }),
      ctx,
    );
    return value === undefined ? { found: false } : { found: true, value: bytesOf(value) };
  };

  const basic: ListBasicImpl = {
    pushLeft: (req, ctx) => push(req.key, req.values, true, ctx),
    pushRight: (req, ctx) => push(req.key, req.values, false, ctx),
    popLeft: (req, ctx) => pop(req.key, true, ctx),
    popRight: (req, ctx) => pop(req.key, false, ctx),
    async length(req, ctx) {
      const [row] = await client.run(
        sql<{ length: string }[]>`SELECT (tail - head + 1)::text AS length FROM ${heads}
          WHERE namespace = ${ns} AND key = ${req.key}`,
        ctx,
      );
      return { length: BigInt(row?.length ?? 0) };
    },
  };

  return {
    bindings: [implement(ListBasic, basic)],
    start: () => ensureListSchema(client),
  };
}
