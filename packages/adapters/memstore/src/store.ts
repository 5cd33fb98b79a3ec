import { randomBytes } from 'node:crypto';
import { resourceExhausted, unavailable } from '@prism/sdk';
import { Deque } from './deque.js';
import { type Expiring, ExpiryHeap } from './heap.js';
import { SortedKeys } from './sorted-keys.js';

/** Expired keys removed per timer tick before yielding to I/O; the rest follow on setImmediate. */
const SWEEP_BATCH = 10_000;

/** Options of one {@link MemStore}: one store serves one namespace. */
export interface MemStoreOptions {
  readonly namespace: string;
  /** Most keys (key/value plus list keys) the store holds; undefined for no limit. */
  readonly maxKeys?: number | undefined;
  /** How often the background sweep removes expired keys. */
  readonly sweepIntervalMs: number;
}

interface Entry extends Expiring {
  readonly key: string;
  value: Uint8Array;
  /** Store-wide write counter at this entry's last write: never reused, so etags cannot repeat (no ABA). */
  version: number;
}

/** A live entry as read by conditional writes: the stored value (read-only, not copied) and its version. */
export interface Versioned {
  readonly value: Uint8Array;
  readonly version: number;
}

/** The final state of one key in {@link MemStore.apply}: a value (TTL in ms, none when undefined), or null to delete. */
export type FinalState = { readonly value: Uint8Array; readonly ttlMs?: number | undefined } | null;

/** Monotonic milliseconds: TTLs must not jump with the wall clock. */
const now = (): number => performance.now();

/** A private copy, so neither the caller's buffer nor a protobuf request buffer is retained or aliased. */
const copy = (value: Uint8Array): Uint8Array => new Uint8Array(value);

/** Outcome of {@link MemStore.ttl}: undefined for a missing key, null for a key without TTL. */
export type RemainingTTL = number | null | undefined;

/** One scan page: live entries in key order and whether more keys match after them. */
export interface StorePage {
  readonly entries: readonly { readonly key: string; readonly value: Uint8Array }[];
  readonly more: boolean;
}

/**
 * The in-memory data of one namespace: key/value entries with optional TTL, and lists (a separate key
 * space; both count towards `maxKeys`). Every operation is synchronous, so each is atomic.
 *
 * Expiry: keys with a TTL sit in an indexed min-heap by expiry time. Reads treat an expired key as
 * missing (and drop it); an unref'd interval timer removes expired keys nobody reads, in batches.
 *
 * Scan order: a sorted key index ({@link SortedKeys}) built on the first Scan/Count and maintained
 * incrementally afterwards, so namespaces that never scan pay nothing on the write path.
 */
export class MemStore {
  private readonly kv = new Map<string, Entry>();
  private readonly lists = new Map<string, Deque<Uint8Array>>();
  private readonly expiries = new ExpiryHeap<Entry>();
  private index: SortedKeys | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  /** Last version handed out; every key/value write takes the next one. */
  private writes = 0;
  /** Random per store, so an etag of another namespace (or an earlier process) never matches here. */
  private readonly epoch = randomBytes(6).toString('base64url');

  constructor(private readonly opts: MemStoreOptions) {
    this.timer = setInterval(() => this.sweep(SWEEP_BATCH), opts.sweepIntervalMs);
    this.timer.unref();
  }

  /** Keys held, including expired keys the sweep has not reached yet. */
  get size(): number {
    return this.kv.size + this.lists.size;
  }

  get maxKeys(): number | undefined {
    return this.opts.maxKeys;
  }

  // ---- key/value ----

  /** The stored value itself (read-only for callers: it is not copied), or undefined when missing or expired. */
  get(key: string): Uint8Array | undefined {
    return this.live(key)?.value;
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  /** Stores a copy of value; clears any TTL, or sets `ttlMs` when given. Returns the new version. */
  set(key: string, value: Uint8Array, ttlMs?: number): number {
    const existing = this.live(key);
    if (existing) return this.overwrite(existing, value, ttlMs);
    this.admit();
    return this.insert(key, value, ttlMs);
  }

  /** The live entry under key (its value and version, not copied), or undefined when missing or expired. */
  entry(key: string): Versioned | undefined {
    return this.live(key);
  }

  /** The opaque etag of a version: this store's epoch plus the version, so it differs on every write. */
  etag(version: number): string {
    return `${this.epoch}.${version.toString(36)}`;
  }

  /**
   * Gives several distinct keys their final state at once (the multi-key writes of batch and transact):
   * either all are applied or, when the keys it creates would exceed `maxKeys` once the keys it deletes
   * are gone, none (RESOURCE_EXHAUSTED). Synchronous, so no reader sees part of it.
   */
  apply(writes: ReadonlyMap<string, FinalState>): void {
    this.assertOpen();
    const max = this.opts.maxKeys;
    if (max !== undefined) {
      let added = this.keysAdded(writes);
      if (added > 0 && this.size + added > max) {
        this.sweep();
        added = this.keysAdded(writes); // the sweep may have removed some of the keys counted above
        if (this.size + added > max) throw this.full(added);
      }
    }
    // An entry found below is live, or expired so recently that replacing or removing it is the same.
    for (const [key, state] of writes) {
      const entry = this.kv.get(key);
      if (state === null) {
        if (entry) this.remove(entry);
      } else if (entry) this.overwrite(entry, state.value, state.ttlMs);
      else this.insert(key, state.value, state.ttlMs);
    }
  }

  delete(key: string): boolean {
    const entry = this.live(key);
    if (!entry) return false;
    this.remove(entry);
    return true;
  }

  /** Sets or replaces the TTL of an existing key; false when the key is missing. */
  expire(key: string, ttlMs: number): boolean {
    const entry = this.live(key);
    if (!entry) return false;
    this.applyTTL(entry, ttlMs);
    return true;
  }

  /** Remaining TTL in whole milliseconds, rounded up. */
  ttl(key: string): RemainingTTL {
    const entry = this.live(key);
    if (!entry) return undefined;
    if (entry.heapIndex < 0) return null;
    return Math.max(1, Math.ceil(entry.expiresAt - now()));
  }

  /** Removes a key's TTL; true only when there was one. */
  persist(key: string): boolean {
    const entry = this.live(key);
    if (!entry || entry.heapIndex < 0) return false;
    this.expiries.remove(entry);
    return true;
  }

  // ---- scan ----

  /** Up to `n` live entries whose key starts with `prefix`, in key order, strictly after `after`. */
  page(prefix: string, after: string | undefined, n: number): StorePage {
    const index = this.scanIndex();
    const resume = after !== undefined && after >= prefix;
    const entries: Entry[] = [];
    for (const key of index.from(resume ? after : prefix, resume)) {
      if (!key.startsWith(prefix)) break;
      if (entries.length === n) return { entries, more: true };
      entries.push(this.kv.get(key)!);
    }
    return { entries, more: false };
  }

  /** Live keys starting with `prefix`. */
  count(prefix: string): number {
    const index = this.scanIndex();
    if (prefix === '') return this.kv.size;
    let n = 0;
    for (const key of index.from(prefix)) {
      if (!key.startsWith(prefix)) break;
      n++;
    }
    return n;
  }

  // ---- lists ----

  /** Pushes copies of values one at a time (so a left push reverses them); returns the new length. */
  push(key: string, values: readonly Uint8Array[], left: boolean): number {
    this.assertOpen();
    let list = this.lists.get(key);
    if (!list) {
      this.admit();
      list = new Deque<Uint8Array>();
      this.lists.set(key, list);
    }
    for (const value of values) {
      if (left) list.pushFront(copy(value));
      else list.pushBack(copy(value));
    }
    const length = list.length;
    this.onListPush?.(key);
    return length;
  }

  /**
   * Runs after every push, once the values are in (list_blocking serves its waiters from it, so they may
   * pop what was just pushed); the push still answers the length it made.
   */
  onListPush: ((key: string) => void) | undefined;

  /** The list under key itself (for in-place reads and edits by list.ts), or undefined when missing. */
  listOf(key: string): Deque<Uint8Array> | undefined {
    this.assertOpen();
    return this.lists.get(key);
  }

  /** Replaces an existing list under key with `values` (stored as given, not copied); none deletes it. */
  replaceList(key: string, values: readonly Uint8Array[]): void {
    this.assertOpen();
    if (!this.lists.has(key)) return;
    if (values.length === 0) {
      this.lists.delete(key);
      return;
    }
    const list = new Deque<Uint8Array>(values.length);
    for (const value of values) list.pushBack(value);
    this.lists.set(key, list);
  }

  /** Removes and returns the head (left) or tail; a list that becomes empty is deleted. */
  pop(key: string, left: boolean): Uint8Array | undefined {
    this.assertOpen();
    const list = this.lists.get(key);
    if (!list) return undefined;
    const value = left ? list.popFront() : list.popBack();
    if (list.length === 0) this.lists.delete(key);
    return value;
  }

  length(key: string): number {
    this.assertOpen();
    return this.lists.get(key)?.length ?? 0;
  }

  // ---- lifecycle ----

  /** Stops the sweep timers and drops all data; later calls answer UNAVAILABLE. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.kv.clear();
    this.lists.clear();
    this.expiries.clear();
    this.index = undefined;
  }

  /**
   * Removes up to `budget` expired keys. When more are due, schedules the rest on setImmediate so a
   * mass expiry never blocks the event loop for long.
   */
  sweep(budget = Number.POSITIVE_INFINITY): void {
    if (this.closed) return;
    const t = now();
    let removed = 0;
    for (let e = this.expiries.peek(); e !== undefined && e.expiresAt <= t; e = this.expiries.peek()) {
      this.remove(e);
      if (++removed >= budget) {
        if (this.immediate === undefined)
          this.immediate = setImmediate(() => {
            this.immediate = undefined;
            this.sweep(budget);
          });
        return;
      }
    }
  }

  private overwrite(entry: Entry, value: Uint8Array, ttlMs: number | undefined): number {
    entry.value = copy(value);
    entry.version = ++this.writes;
    this.applyTTL(entry, ttlMs);
    return entry.version;
  }

  private insert(key: string, value: Uint8Array, ttlMs: number | undefined): number {
    const entry: Entry = { key, value: copy(value), expiresAt: 0, heapIndex: -1, version: ++this.writes };
    this.kv.set(key, entry);
    this.index?.add(key);
    this.applyTTL(entry, ttlMs);
    return entry.version;
  }

  /** Net keys {@link apply} would add (new keys minus deleted live ones); drops expired entries of these keys. */
  private keysAdded(writes: ReadonlyMap<string, FinalState>): number {
    let added = 0;
    for (const [key, state] of writes) {
      const live = this.live(key) !== undefined;
      if (state === null) {
        if (live) added--;
      } else if (!live) added++;
    }
    return added;
  }

  /** The entry under key unless missing or expired (an expired one is dropped on the way). */
  private live(key: string): Entry | undefined {
    if (this.closed) this.assertOpen();
    const entry = this.kv.get(key);
    if (entry !== undefined && entry.heapIndex >= 0 && entry.expiresAt <= now()) {
      this.remove(entry);
      return undefined;
    }
    return entry;
  }

  private applyTTL(entry: Entry, ttlMs: number | undefined): void {
    if (ttlMs === undefined) {
      this.expiries.remove(entry);
    } else {
      entry.expiresAt = now() + ttlMs;
      this.expiries.upsert(entry);
    }
  }

  private remove(entry: Entry): void {
    this.kv.delete(entry.key);
    this.expiries.remove(entry);
    this.index?.delete(entry.key);
  }

  /** Checks capacity before a NEW key; expired keys are swept first so they never block admission. */
  private admit(): void {
    const max = this.opts.maxKeys;
    if (max === undefined || this.size < max) return;
    this.sweep();
    if (this.size >= max) throw this.full(1);
  }

  private full(adding: number): Error {
    const what = adding === 1 ? '' : ` (this write would add ${adding} keys)`;
    return resourceExhausted(
      `memstore backend of namespace "${this.opts.namespace}" is full: it holds ${this.size} keys and max_keys is ${this.opts.maxKeys}${what}; ` +
        'delete keys, let TTLs expire or raise backend.config.max_keys (updates of existing keys are still accepted)',
    );
  }

  /** The sorted index for Scan/Count, with every expired key removed first so none is listed or counted. */
  private scanIndex(): SortedKeys {
    this.assertOpen();
    this.sweep();
    this.index ??= SortedKeys.from(this.kv.keys());
    return this.index;
  }

  private assertOpen(): void {
    if (this.closed)
      throw unavailable(
        `memstore backend of namespace "${this.opts.namespace}" is closed; the namespace was shut down`,
      );
  }
}
