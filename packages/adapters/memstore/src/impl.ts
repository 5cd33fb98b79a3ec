import type { KeyValueBasicImpl } from '@prism/keyvalue-basic';
import { effectivePageSize, type KeyValueScanImpl } from '@prism/keyvalue-scan';
import type { KeyValueTTLImpl } from '@prism/keyvalue-ttl';
import type { ListBasicImpl } from '@prism/list-basic';
import type { CallContext, Limits } from '@prism/sdk';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { MemStore, StorePage } from './store.js';

// Unary methods answer synchronously with plain objects: no promise per call on the hot path.
// Values are copied when written; Get and Scan hand out the stored buffer itself (a copy per read
// would cost more than the whole lookup), so in-process callers must treat returned values as
// read-only. The proxy only serializes them. Popped list values are no longer stored and are the
// caller's to keep.
// Input validation (keys, values, TTL > 0, page size) is done by the interface definitions before
// these run; see @prism/keyvalue-* and @prism/list-basic.

const EMPTY = new Uint8Array(0);

/** keyvalue_basic over a MemStore. */
export function memBasic(store: MemStore): KeyValueBasicImpl {
  return {
    set: (req) => {
      store.set(req.key, req.value);
      return {};
    },
    get: (req) => {
      const value = store.get(req.key);
      return value === undefined ? { found: false } : { found: true, value };
    },
    delete: (req) => ({ deleted: store.delete(req.key) }),
    exists: (req) => ({ exists: store.exists(req.key) }),
  };
}

/** keyvalue_ttl over a MemStore. TTLs arrive validated as 0 < ttl_ms <= MAX_SAFE_INTEGER. */
export function memTTL(store: MemStore): KeyValueTTLImpl {
  return {
    setWithTTL: (req) => {
      store.set(req.key, req.value, Number(req.ttlMs));
      return {};
    },
    expire: (req) => ({ applied: store.expire(req.key, Number(req.ttlMs)) }),
    getTTL: (req) => {
      const ttl = store.ttl(req.key);
      if (ttl === undefined) return { exists: false, hasTtl: false, ttlMs: 0n };
      if (ttl === null) return { exists: true, hasTtl: false, ttlMs: 0n };
      return { exists: true, hasTtl: true, ttlMs: BigInt(ttl) };
    },
    persist: (req) => ({ applied: store.persist(req.key) }),
  };
}

interface ScanArgs {
  readonly prefix: string;
  readonly cursor: string;
  readonly pageSize: number;
  readonly limit: number;
}

/**
 * Pages of one scan. Each page re-seeks the sorted index after the previous page's last key, so writes
 * between pages (or between calls resuming from a cursor) never shift or repeat what was returned.
 */
async function* pages(
  store: MemStore,
  req: ScanArgs,
  ctx: CallContext,
  maxKeyBytes: number | undefined,
): AsyncGenerator<StorePage & { next: string }> {
  const pageSize = effectivePageSize(req.pageSize);
  let after = req.cursor === '' ? undefined : decodeCursor(req.cursor, req.prefix, maxKeyBytes);
  let remaining = req.limit === 0 ? Number.POSITIVE_INFINITY : req.limit;
  for (;;) {
    const page = store.page(req.prefix, after, Math.min(pageSize, remaining));
    remaining -= page.entries.length;
    const last = page.entries.at(-1)?.key;
    const done = !page.more || remaining === 0 || last === undefined;
    yield { ...page, next: done ? '' : encodeCursor(last) };
    if (done || ctx.signal.aborted) return;
    after = last;
  }
}

/** keyvalue_scan over a MemStore: key order, opaque resumable cursors. */
export function memScan(store: MemStore, limits?: Limits): KeyValueScanImpl {
  return {
    async *scan(req, ctx) {
      for await (const page of pages(store, req, ctx, limits?.maxKeyBytes))
        yield {
          items: page.entries.map((e) => ({ key: e.key, value: e.value })),
          nextCursor: page.next,
        };
    },
    async *scanKeys(req, ctx) {
      for await (const page of pages(store, req, ctx, limits?.maxKeyBytes))
        yield { keys: page.entries.map((e) => e.key), nextCursor: page.next };
    },
    count: (req) => ({ count: BigInt(store.count(req.prefix)) }),
  };
}

/** list_basic over a MemStore. */
export function memList(store: MemStore): ListBasicImpl {
  const popped = (value: Uint8Array | undefined) =>
    value === undefined ? { found: false, value: EMPTY } : { found: true, value };
  return {
    pushLeft: (req) => ({ length: BigInt(store.push(req.key, req.values, true)) }),
    pushRight: (req) => ({ length: BigInt(store.push(req.key, req.values, false)) }),
    popLeft: (req) => popped(store.pop(req.key, true)),
    popRight: (req) => popped(store.pop(req.key, false)),
    length: (req) => ({ length: BigInt(store.length(req.key)) }),
  };
}
