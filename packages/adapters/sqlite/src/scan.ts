import {
  decodeCursor,
  effectivePageSize,
  encodeCursor,
  type KeyValueScanImpl,
  prefixSuccessor,
} from '@prism/keyvalue-scan';
import type { CallContext, Limits } from '@prism/sdk';
import { bytesOf } from './basic.js';
import { LIVE, type SqliteStore } from './store.js';

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
 * keyvalue_scan on SQLite: pages ordered by key, resumed strictly after the last key of the previous page
 * (so pages never overlap), with the prefix matched by a key range, never LIKE.
 */
export function sqliteScan(store: SqliteStore, limits?: Limits): KeyValueScanImpl {
  const ns = store.namespace;

  // Four statement shapes: with/without a resume key, with/without an upper bound.
  const select = (columns: string, after: boolean, upper: boolean) =>
    store.stmt(
      `SELECT ${columns} FROM prism_kv WHERE namespace = ? AND key >= ?${after ? ' AND key > ?' : ''}` +
        `${upper ? ' AND key < ?' : ''} AND ${LIVE} ORDER BY key LIMIT ?`,
    );

  function fetch(prefix: string, after: string | undefined, n: number, withValues: boolean): Row[] {
    const upper = prefixSuccessor(prefix);
    const args: unknown[] = [ns, prefix];
    if (after !== undefined) args.push(after);
    if (upper !== undefined) args.push(upper);
    args.push(Date.now(), n);
    return select(withValues ? 'key, value' : 'key', after !== undefined, upper !== undefined).all(
      ...args,
    ) as Row[];
  }

  async function* pages(req: PageRequest, withValues: boolean, ctx: CallContext) {
    const size = effectivePageSize(req.pageSize);
    let remaining = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
    // Validated: canonical, UTF-8, no NUL, within the prefix (the query is confined to it anyway).
    let after = decodeCursor(req.cursor, req.prefix, limits);
    while (remaining > 0 && !ctx.signal.aborted) {
      const n = Math.min(size, remaining);
      // One row more than the page tells whether another page follows.
      const rows = store.guard(() => fetch(req.prefix, after, n + 1, withValues));
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
    count: (req) =>
      store.guard(() => {
        const upper = prefixSuccessor(req.prefix);
        const sql = `SELECT count(*) AS n FROM prism_kv WHERE namespace = ? AND key >= ?${upper !== undefined ? ' AND key < ?' : ''} AND ${LIVE}`;
        const args: unknown[] =
          upper !== undefined ? [ns, req.prefix, upper, Date.now()] : [ns, req.prefix, Date.now()];
        return { count: BigInt((store.stmt(sql).get(...args) as { n: number }).n) };
      }),
  };
}
