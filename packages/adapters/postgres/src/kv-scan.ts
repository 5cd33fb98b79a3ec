import {
  decodeCursor,
  effectivePageSize,
  encodeCursor,
  type KeyValueScanImpl,
  prefixSuccessor,
} from '@prism/keyvalue-scan';
import type { CallContext, Limits } from '@prism/sdk';
import type { PgClient } from './client.js';
import { bytesOf } from './kv-basic.js';
import type { KvTables } from './kv-schema.js';

interface Row {
  key: string;
  value?: Buffer;
}

interface PageRequest {
  prefix: string;
  cursor: string;
  pageSize: number;
  limit: number;
}

/**
 * keyvalue_scan on PostgreSQL: pages ordered by key (COLLATE "C"), each resumed strictly after the last
 * key of the previous page (keyset pagination: no overlap, no OFFSET), with the prefix matched by a key
 * range so `%` and `_` are literal.
 */
export function pgScan(client: PgClient, tables: KvTables, limits?: Limits): KeyValueScanImpl {
  const { sql } = client;
  const ns = client.namespace;
  const t = sql(tables.table);

  // Four fixed statement shapes (resume key or not × upper bound or not), so each is prepared once.
  function fetch(
    prefix: string,
    after: string | undefined,
    n: number,
    withValues: boolean,
    ctx: CallContext,
  ) {
    const upper = prefixSuccessor(prefix);
    const columns = withValues ? sql`key, value` : sql`key`;
    const afterCond = after === undefined ? sql`` : sql`AND key > ${after}`;
    const upperCond = upper === undefined ? sql`` : sql`AND key < ${upper}`;
    return client.run(
      sql<Row[]>`SELECT ${columns} FROM ${t}
        WHERE namespace = ${ns} AND key >= ${prefix} ${afterCond} ${upperCond}
          AND (expires_at IS NULL OR expires_at > now())
        ORDER BY key LIMIT ${n}`,
      ctx,
    );
  }

  async function* pages(req: PageRequest, withValues: boolean, ctx: CallContext) {
    const size = effectivePageSize(req.pageSize);
    let remaining = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
    // Validated: canonical, UTF-8, no NUL, within the prefix (the query is confined to it anyway).
    let after = decodeCursor(req.cursor, req.prefix, limits);
    while (remaining > 0 && !ctx.signal.aborted) {
      const n = Math.min(size, remaining);
      // One row more than the page tells whether another page follows.
      const rows = await fetch(req.prefix, after, n + 1, withValues, ctx);
      const more = rows.length > n;
      const page = more ? rows.slice(0, n) : rows;
      remaining -= page.length;
      after = page.at(-1)?.key ?? after;
      // The scan is complete when the keys ran out or the limit was reached: both end with an empty cursor.
      const done = !more || remaining === 0;
      yield { page, nextCursor: done || after === undefined ? '' : encodeCursor(after) };
      if (done) return;
    }
  }

  return {
    async *scan(req, ctx) {
      for await (const { page, nextCursor } of pages(req, true, ctx))
        yield { items: page.map((r) => ({ key: r.key, value: bytesOf(r.value!) })), nextCursor };
    },
    async *scanKeys(req, ctx) {
      for await (const { page, nextCursor } of pages(req, false, ctx))
        yield { keys: page.map((r) => r.key), nextCursor };
    },
    async count(req, ctx) {
      const upper = prefixSuccessor(req.prefix);
      const upperCond = upper === undefined ? sql`` : sql`AND key < ${upper}`;
      const [row] = await client.run(
        sql<{ n: string }[]>`SELECT count(*)::int8 AS n FROM ${t}
          WHERE namespace = ${ns} AND key >= ${req.prefix} ${upperCond}
            AND (expires_at IS NULL OR expires_at > now())`,
        ctx,
      );
      return { count: BigInt(row?.n ?? 0) };
    },
  };
}
