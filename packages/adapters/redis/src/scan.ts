import { effectivePageSize, type KeyValueScanImpl } from '@prism/keyvalue-scan';
import { type CallContext, checkKey, DEFAULT_LIMITS, invalidArgument, type Limits } from '@prism/sdk';
import type { RedisConnection, Reply } from './connection.js';
import type { KeySpace } from './keys.js';
import { bytes, int, str } from './kv.js';

/**
 * Resume point of a scan: the Redis SCAN cursor to continue from, whether Redis already finished, and
 * the keys Redis returned that did not fit into the previous page (SCAN batches do not align with
 * pages, and re-issuing a SCAN cursor is not guaranteed to return the same batch, so the leftovers
 * travel in the cursor instead). Encoded as base64url JSON; clients treat it as opaque.
 *
 * A cursor comes back from the client, so it is validated in full before use, like the request's own
 * keys: canonical encoding, a SCAN cursor in the uint64 range, `done` only with SCAN cursor 0, and
 * leftovers that are ordinary user keys of this scan — non-empty, without NUL (so never one of the
 * namespace's internal keys, e.g. `<prefix>\0e\0<key>` version tags), within the namespace's key length
 * limit, starting with the scan's prefix, strictly ascending and at most {@link MAX_PENDING}. A forged
 * cursor can therefore only name keys the caller could read with Get anyway, and anything else is
 * INVALID_ARGUMENT.
 */
interface ScanState {
  rc: string;
  done: boolean;
  pending: string[];
}

/** The most leftovers a cursor carries (a SCAN batch is about COUNT ≤ 1000 keys; slack for rehashing). */
const MAX_PENDING = 10_000;
const UINT64_MAX = (1n << 64n) - 1n;

function encodeCursor(s: ScanState): string {
  return Buffer.from(JSON.stringify({ c: s.rc, d: s.done ? 1 : 0, p: s.pending }), 'utf8').toString(
    'base64url',
  );
}

const badCursor = (why: string) =>
  invalidArgument(
    `cursor is not a cursor returned by this scan (${why}); pass next_cursor unchanged, or empty to start`,
  );

/** Decodes and validates a cursor of a scan over `prefix` (see {@link ScanState}). */
export function decodeCursor(cursor: string, prefix: string, limits: Limits): ScanState {
  if (cursor === '') return { rc: '0', done: false, pending: [] };
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor('not base64url');
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(cursor, 'base64url')));
  } catch {
    throw badCursor('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badCursor('not an object');
  const { c, d, p } = v as { c?: unknown; d?: unknown; p?: unknown };
  if (typeof c !== 'string' || !/^(0|[1-9]\d{0,19})$/.test(c) || BigInt(c) > UINT64_MAX)
    throw badCursor('bad SCAN cursor');
  if (d !== 0 && d !== 1) throw badCursor('bad done flag');
  if ((d === 1) !== (c === '0')) throw badCursor('inconsistent done flag');
  if (!Array.isArray(p) || p.length > MAX_PENDING) throw badCursor('bad leftovers');
  let previous: string | undefined;
  for (const k of p) {
    if (typeof k !== 'string') throw badCursor('a leftover is not a string');
    try {
      checkKey(k, limits, 'a key in the cursor');
    } catch (err) {
      throw badCursor(err instanceof Error ? err.message : String(err));
    }
    if (!k.startsWith(prefix)) throw badCursor('a key in the cursor lies outside the prefix');
    if (previous !== undefined && !(previous < k)) throw badCursor('keys in the cursor out of order');
    previous = k;
  }
  const state = { rc: c, done: d === 1, pending: p as string[] };
  // Same fields, same order, nothing else: the cursor is exactly what encodeCursor made.
  if (encodeCursor(state) !== cursor) throw badCursor('not in canonical form');
  return state;
}

/** How many slots one SCAN call visits: about one page, bounded so leftovers (and cursors) stay small. */
const scanCount = (pageSize: number) => String(Math.min(Math.max(pageSize, 10), 1000));

interface PageOut {
  keys: string[];
  values?: Uint8Array[];
  nextCursor: string;
}

/**
 * keyvalue_scan on Redis SCAN with MATCH (glob characters of the prefix escaped). Keys Redis returns
 * twice within one call are dropped; pages hold at most page_size items, and a page cursor resumes
 * right after that page.
 */
export function redisScan(
  conn: RedisConnection,
  keys: KeySpace,
  limits: Limits = DEFAULT_LIMITS,
): KeyValueScanImpl {
  async function* pages(
    req: { prefix: string; cursor: string; pageSize: number; limit: number },
    withValues: boolean,
    ctx: CallContext,
  ): AsyncGenerator<PageOut> {
    const signal = ctx.signal;
    const pageSize = effectivePageSize(req.pageSize);
    const limit = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
    const state = decodeCursor(req.cursor, req.prefix, limits);
    const match = keys.match(req.prefix);
    const seen = new Set<string>();
    // Leftovers from a previous call may have been deleted since; they are checked like fresh keys.
    let total = 0;
    for (;;) {
      const cap = Math.min(pageSize, limit - total);
      const out: PageOut = { keys: [], nextCursor: '' };
      const values: Uint8Array[] = [];
      while (out.keys.length < cap) {
        // The client went away or the deadline passed: stop issuing SCANs for nobody.
        signal.throwIfAborted();
        if (state.pending.length === 0) {
          if (state.done) break;
          const reply = await conn.call(
            ['SCAN', state.rc, 'MATCH', match, 'COUNT', scanCount(pageSize)],
            false,
            ctx,
          );
          const [rc, batch] = Array.isArray(reply) ? reply : [];
          state.rc = str(rc);
          state.done = state.rc === '0';
          const found = (Array.isArray(batch) ? batch : []).map((k) => keys.userKey(str(k), req.prefix));
          state.pending = [
            ...new Set(found.filter((k): k is string => k !== undefined && !seen.has(k))),
          ].sort();
          continue;
        }
        const take = state.pending.splice(0, cap - out.keys.length).filter((k) => !seen.has(k));
        if (take.length === 0) continue;
        for (const k of take) seen.add(k);
        if (withValues) {
          // Keys deleted since SCAN returned them come back as nil and are skipped.
          const reply = await conn.call(['MGET', ...take.map((k) => keys.value(k))], true, ctx);
          const got = Array.isArray(reply) ? reply : [];
          take.forEach((k, i) => {
            const v: Reply = got[i];
            if (v === null || v === undefined) return;
            out.keys.push(k);
            values.push(bytes(v));
          });
        } else {
          const reply = await conn.call(['EXISTS', ...take.map((k) => keys.value(k))], false, ctx);
          // EXISTS with several keys counts them; only re-check one by one when some vanished.
          if (int(reply) === take.length) out.keys.push(...take);
          else
            for (const k of take)
              if (int(await conn.call(['EXISTS', keys.value(k)], false, ctx)) === 1) out.keys.push(k);
        }
      }
      total += out.keys.length;
      const finished = (state.done && state.pending.length === 0) || total >= limit;
      out.nextCursor = finished ? '' : encodeCursor(state);
      if (withValues) out.values = values;
      if (out.keys.length > 0 || finished) yield out;
      if (finished) return;
    }
  }

  return {
    async *scan(req, ctx) {
      for await (const page of pages(req, true, ctx))
        yield {
          items: page.keys.map((key, i) => ({ key, value: page.values?.[i] ?? new Uint8Array() })),
          nextCursor: page.nextCursor,
        };
    },
    async *scanKeys(req, ctx) {
      for await (const page of pages(req, false, ctx)) yield { keys: page.keys, nextCursor: page.nextCursor };
    },
    async count(req, ctx) {
      const seen = new Set<string>();
      const match = keys.match(req.prefix);
      let rc = '0';
      do {
        ctx.signal.throwIfAborted();
        const reply = await conn.call(['SCAN', rc, 'MATCH', match, 'COUNT', '1000'], false, ctx);
        const [next, batch] = Array.isArray(reply) ? reply : [];
        rc = str(next);
        for (const k of Array.isArray(batch) ? batch : []) {
          const userKey = keys.userKey(str(k), req.prefix);
          if (userKey !== undefined) seen.add(userKey);
        }
      } while (rc !== '0');
      return { count: BigInt(seen.size) };
    },
  };
}
