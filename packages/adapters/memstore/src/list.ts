import { blockingWaitMs, type ListBlockingImpl } from '@prism/list-blocking';
import { InsertPosition, type ListIndexingImpl, resolveIndex } from '@prism/list-indexing';
import { boundRange, effectiveRangeLimit, type ListRangeImpl, resolveRange } from '@prism/list-range';
import { type CallContext, Code, ConnectError, notFound, toConnectError, unavailable } from '@prism/sdk';
import type { MemStore } from './store.js';

// list_indexing, list_range and list_blocking over the lists of a MemStore (the same lists list_basic
// pushes and pops). Every operation is synchronous, so each is atomic. As with Get, values read (Index,
// Range) are the stored buffers themselves; values written are copied.

const EMPTY = new Uint8Array(0);
const copy = (value: Uint8Array): Uint8Array => new Uint8Array(value);

const equal = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** list_indexing over a MemStore (LINDEX, LSET, LINSERT, LREM semantics). */
export function memListIndexing(store: MemStore): ListIndexingImpl {
  return {
    index: (req) => {
      const list = store.listOf(req.key);
      const i = list && resolveIndex(req.index, list.length);
      return i === undefined ? { found: false, value: EMPTY } : { found: true, value: list!.at(i)! };
    },
    setIndex: (req) => {
      const list = store.listOf(req.key);
      if (!list) throw notFound(`list "${req.key}" does not exist`);
      const i = resolveIndex(req.index, list.length);
      if (i === undefined)
        throw new ConnectError(
          `index ${req.index} is out of range for list "${req.key}" of length ${list.length} (valid: ${-list.length} to ${list.length - 1})`,
          Code.OutOfRange,
        );
      list.setAt(i, copy(req.value));
      return {};
    },
    insert: (req) => {
      const list = store.listOf(req.key);
      if (!list) return { pivotFound: false, length: 0n };
      const values = [...list];
      const at = values.findIndex((v) => equal(v, req.pivot));
      if (at < 0) return { pivotFound: false, length: BigInt(values.length) };
      values.splice(req.position === InsertPosition.BEFORE ? at : at + 1, 0, copy(req.value));
      store.replaceList(req.key, values);
      return { pivotFound: true, length: BigInt(values.length) };
    },
    remove: (req) => {
      const list = store.listOf(req.key);
      if (!list) return { removed: 0n };
      const values = [...list];
      const count = req.count;
      let budget = count === 0n ? Number.POSITIVE_INFINITY : Number(count < 0n ? -count : count);
      const drop = new Set<number>();
      if (count >= 0n) {
        for (let i = 0; i < values.length && budget > 0; i++)
          if (equal(values[i]!, req.value)) {
            drop.add(i);
            budget--;
          }
      } else {
        for (let i = values.length - 1; i >= 0 && budget > 0; i--)
          if (equal(values[i]!, req.value)) {
            drop.add(i);
            budget--;
          }
      }
      if (drop.size > 0)
        store.replaceList(
          req.key,
          values.filter((_, i) => !drop.has(i)),
        );
      return { removed: BigInt(drop.size) };
    },
  };
}

/** list_range over a MemStore (LRANGE with bounded answers, LTRIM). */
export function memListRange(store: MemStore): ListRangeImpl {
  return {
    range: (req) => {
      const list = store.listOf(req.key);
      const length = list?.length ?? 0;
      const bounds = list && resolveRange(req.start, req.stop, length);
      if (!bounds) return { values: [], truncated: false, nextStart: 0n, length: BigInt(length) };
      const [first, last] = bounds;
      const limit = effectiveRangeLimit(req.limit);
      const picked: Uint8Array[] = [];
      for (let i = first; i <= last && picked.length < limit; i++) picked.push(list!.at(i)!);
      return { ...boundRange(picked, first, last - first + 1, limit), length: BigInt(length) };
    },
    trim: (req) => {
      const list = store.listOf(req.key);
      if (!list) return { length: 0n };
      const bounds = resolveRange(req.start, req.stop, list.length);
      const kept: Uint8Array[] = [];
      if (bounds) for (let i = bounds[0]; i <= bounds[1]; i++) kept.push(list.at(i)!);
      if (kept.length !== list.length) store.replaceList(req.key, kept);
      return { length: BigInt(kept.length) };
    },
  };
}

interface Popped {
  found: boolean;
  key: string;
  value: Uint8Array;
}

/** One blocked call: the keys it waits on, which end it pops, and how to hand it a value. */
interface Waiter {
  readonly keys: readonly string[];
  readonly left: boolean;
  deliver(key: string, value: Uint8Array): void;
  fail(err: ConnectError): void;
}

const NOTHING: Popped = { found: false, key: '', value: EMPTY };

/** The abort reason of a call as a ConnectError (CANCELED for a plain abort). */
function abortError(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return toConnectError(
    reason instanceof Error ? reason : Object.assign(new Error('call canceled'), { name: 'AbortError' }),
    'memstore list_blocking',
  );
}

/**
 * list_blocking over a MemStore: waiters queue per key in arrival order; every push (list_basic, or a
 * value put back by a cancelled waiter) serves the queue of its key while the list has values. Serving
 * pops synchronously inside the push, so a value goes to exactly one waiter and none is lost.
 */
export class MemListBlocking {
  /** key → waiters on it, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(private readonly store: MemStore) {
    store.onListPush = (key) => this.serve(key);
  }

  impl(): ListBlockingImpl {
    return {
      blockingPopLeft: (req, ctx) => this.pop(req.keys, req.timeoutMs, true, ctx),
      blockingPopRight: (req, ctx) => this.pop(req.keys, req.timeoutMs, false, ctx),
    };
  }

  /** Fails every waiter (UNAVAILABLE): the store is closing. */
  close(): void {
    this.closed = true;
    const all = new Set<Waiter>();
    for (const q of this.waiting.values()) for (const w of q) all.add(w);
    this.waiting.clear();
    for (const w of all) w.fail(unavailable('memstore backend closed while the call was waiting'));
  }

  private async pop(keys: readonly string[], timeoutMs: bigint, left: boolean, ctx: CallContext) {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    for (const key of keys) {
      const value = this.store.pop(key, left);
      if (value !== undefined) return { found: true, key, value };
    }
    const wait = blockingWaitMs(timeoutMs, ctx.deadline);
    if (wait <= 0) return NOTHING;
    if (this.closed) throw unavailable('memstore backend is closed');
    const got = await new Promise<Popped>((resolve, reject) => {
      const onAbort = () => {
        this.unregister(waiter);
        clearTimeout(timer);
        reject(abortError(ctx.signal));
      };
      const waiter: Waiter = {
        keys,
        left,
        deliver: (key, value) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
          resolve({ found: true, key, value });
        },
        fail: (err) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.unregister(waiter);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(NOTHING);
      }, wait);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      for (const key of keys) {
        let q = this.waiting.get(key);
        if (!q) {
          q = new Set();
          this.waiting.set(key, q);
        }
        q.add(waiter);
      }
    });
    // Handed a value as the call was cancelled: put it back where it came from (serving the next waiter).
    if (got.found && ctx.signal.aborted) {
      if (!this.closed) this.store.push(got.key, [got.value], left);
      throw abortError(ctx.signal);
    }
    return got;
  }

  /** Hands values of `key` to its waiters, oldest first, while the list has any. */
  private serve(key: string): void {
    const q = this.waiting.get(key);
    if (!q) return;
    for (const w of q) {
      if (this.store.length(key) === 0) break;
      this.unregister(w);
      const value = this.store.pop(key, w.left);
      if (value !== undefined) w.deliver(key, value);
    }
  }

  private unregister(w: Waiter): void {
    for (const key of w.keys) {
      const q = this.waiting.get(key);
      if (!q) continue;
      q.delete(w);
      if (q.size === 0) this.waiting.delete(key);
    }
  }
}
