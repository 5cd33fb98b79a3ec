import {
  effectiveLimit,
  MAX_RANGE_ENTRIES,
  memberId,
  planAdd,
  type SortedSetBasicImpl,
} from '@prism/sortedset-basic';
import type { LexBound, SortedSetLexImpl } from '@prism/sortedset-lex';
import {
  aggregateScores,
  combinedAnswer,
  type SortedSetOperationsImpl,
  weighted,
} from '@prism/sortedset-operations';
import { resolveMax, resolveMin, resolveRanks, type SortedSetRangeImpl } from '@prism/sortedset-range';
import type { SortedSetRankImpl } from '@prism/sortedset-rank';
import { KeySpace } from './keyspace.js';

// Sorted sets of one namespace: their own key space (apart from key/value, lists and sets). Every
// operation is synchronous, hence atomic; a sorted set that becomes empty is deleted. Members are copied
// when stored, so neither request buffers nor stored members are aliased.

/** One member: `id` is its latin1 form, whose JavaScript string order is the member's unsigned byte order. */
interface ZEntry {
  readonly id: string;
  readonly member: Uint8Array;
  score: number;
}

/** Sorted-set order: score, then member bytes. */
const cmp = (a: ZEntry, b: ZEntry): number =>
  a.score < b.score ? -1 : a.score > b.score ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Target chunk length; a chunk splits at twice this (the layout of sorted-keys.ts). */
const LOAD = 256;

/**
 * One sorted set: a member map plus the entries in sorted order, kept as a list of sorted chunks
 * (insert/delete = binary search + splice in one chunk of at most 2×LOAD; seeking by score, member or
 * rank = binary search over chunks, then within one). Rank arithmetic walks the chunk lengths, i.e.
 * O(n / LOAD), which stays small next to the request itself at realistic sizes.
 */
class ZSet {
  readonly byId = new Map<string, ZEntry>();
  private chunks: ZEntry[][] = [];

  get size(): number {
    return this.byId.size;
  }

  insert(e: ZEntry): void {
    this.byId.set(e.id, e);
    if (this.chunks.length === 0) {
      this.chunks.push([e]);
      return;
    }
    let c = this.chunkFor((x) => cmp(x, e) < 0);
    if (c === this.chunks.length) c--;
    const chunk = this.chunks[c]!;
    chunk.splice(
      lowerBound(chunk, (x) => cmp(x, e) < 0),
      0,
      e,
    );
    if (chunk.length > 2 * LOAD) this.chunks.splice(c + 1, 0, chunk.splice(LOAD));
  }

  delete(e: ZEntry): void {
    this.byId.delete(e.id);
    const c = this.chunkFor((x) => cmp(x, e) < 0);
    const chunk = this.chunks[c]!;
    chunk.splice(
      lowerBound(chunk, (x) => cmp(x, e) < 0),
      1,
    );
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** Changes the score of a stored entry, moving it to its new place. */
  rescore(e: ZEntry, score: number): void {
    this.delete(e);
    e.score = score;
    this.insert(e);
  }

  /**
   * The position of the first entry for which `below` is false; `below` must hold for a prefix of the
   * order (true, then false), e.g. "score < 3".
   */
  bound(below: (e: ZEntry) => boolean): number {
    const c = this.chunkFor(below);
    let pos = 0;
    for (let i = 0; i < c; i++) pos += this.chunks[i]!.length;
    return c === this.chunks.length ? pos : pos + lowerBound(this.chunks[c]!, below);
  }

  rank(e: ZEntry): number {
    return this.bound((x) => cmp(x, e) < 0);
  }

  /** Entries at positions [from, to) in sorted order. */
  slice(from: number, to: number): ZEntry[] {
    const out: ZEntry[] = [];
    let base = 0;
    for (const chunk of this.chunks) {
      if (base + chunk.length > from) {
        for (let i = Math.max(0, from - base); i < chunk.length && base + i < to; i++) out.push(chunk[i]!);
        if (base + chunk.length >= to) break;
      }
      base += chunk.length;
    }
    return out;
  }

  all(): ZEntry[] {
    return this.chunks.flat();
  }

  /** The first chunk whose last entry is not `below`, or chunks.length. */
  private chunkFor(below: (e: ZEntry) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (below(this.chunks[mid]!.at(-1)!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function lowerBound(arr: readonly ZEntry[], below: (e: ZEntry) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(arr[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An answer page: entries at positions [lo, hi) read from offset in answer order, at most `limit`. */
function page(z: ZSet | undefined, lo: number, hi: number, reverse: boolean, offset: number, limit: number) {
  if (!z || hi <= lo) return { entries: [] as ZEntry[], more: false };
  const n = hi - lo;
  if (offset >= n) return { entries: [] as ZEntry[], more: false };
  const take = Math.min(limit, n - offset);
  const more = offset + take < n;
  if (!reverse) return { entries: z.slice(lo + offset, lo + offset + take), more };
  const end = hi - offset;
  return { entries: z.slice(end - take, end).reverse(), more };
}

const scored = (entries: ZEntry[]) => entries.map((e) => ({ member: e.member, score: e.score }));

/** The sorted sets of one namespace. */
export class SortedSetStore extends KeySpace<ZSet> {
  /** The sorted set under key, or undefined when missing. */
  get(key: string): ZSet | undefined {
    this.assertOpen();
    return this.entries.get(key);
  }

  /** The sorted set under key, created empty when missing (the caller fills it or calls {@link dropEmpty}). */
  getOrCreate(key: string): ZSet {
    let z = this.get(key);
    if (!z) {
      z = new ZSet();
      this.entries.set(key, z);
    }
    return z;
  }

  dropEmpty(key: string): void {
    if (this.entries.get(key)?.size === 0) this.entries.delete(key);
  }

  /** Replaces (or, for no entries, deletes) the sorted set under key. */
  replace(key: string, entries: Map<string, { member: Uint8Array; score: number }>): void {
    this.assertOpen();
    if (entries.size === 0) {
      this.entries.delete(key);
      return;
    }
    const z = new ZSet();
    for (const [id, e] of entries) z.insert({ id, member: e.member, score: e.score });
    this.entries.set(key, z);
  }
}

export function memSortedSetBasic(store: SortedSetStore): SortedSetBasicImpl {
  return {
    add(req) {
      const existing = store.get(req.key);
      const plan = planAdd(req, (id) => existing?.byId.get(id)?.score);
      if (plan.writes.size > 0) {
        const z = existing ?? store.getOrCreate(req.key);
        for (const [id, w] of plan.writes) {
          const e = z.byId.get(id);
          if (e) z.rescore(e, w.score);
          else z.insert({ id, member: new Uint8Array(w.member), score: w.score });
        }
      }
      return plan.score === undefined
        ? { count: BigInt(plan.count) }
        : { count: BigInt(plan.count), score: plan.score };
    },
    remove(req) {
      const z = store.get(req.key);
      if (!z) return { removed: 0n };
      let removed = 0;
      for (const m of req.members) {
        const e = z.byId.get(memberId(m));
        if (e) {
          z.delete(e);
          removed++;
        }
      }
      store.dropEmpty(req.key);
      return { removed: BigInt(removed) };
    },
    score(req) {
      const e = store.get(req.key)?.byId.get(memberId(req.member));
      return e ? { found: true, score: e.score } : { found: false };
    },
    card(req) {
      return { count: BigInt(store.get(req.key)?.size ?? 0) };
    },
  };
}

/** Positions [lo, hi) of the entries within a score interval. */
function scoreSpan(
  z: ZSet,
  req: { min?: { value: number; exclusive: boolean }; max?: { value: number; exclusive: boolean } },
) {
  const min = resolveMin(req.min);
  const max = resolveMax(req.max);
  const lo = z.bound((e) => e.score < min.value || (min.exclusive && e.score === min.value));
  const hi = z.bound((e) => e.score < max.value || (!max.exclusive && e.score === max.value));
  return { lo, hi };
}

export function memSortedSetRange(store: SortedSetStore): SortedSetRangeImpl {
  return {
    rangeByScore(req) {
      const z = store.get(req.key);
      if (!z) return { entries: [], more: false };
      const { lo, hi } = scoreSpan(z, req);
      const p = page(z, lo, hi, req.reverse, req.offset, effectiveLimit(req.limit));
      return { entries: scored(p.entries), more: p.more };
    },
    rangeByRank(req) {
      const z = store.get(req.key);
      const span = z && resolveRanks(Number(req.start), Number(req.stop), z.size);
      if (!z || !span) return { entries: [], more: false };
      const last = Math.min(span.to, span.from + MAX_RANGE_ENTRIES - 1);
      const more = last < span.to;
      const entries = req.reverse
        ? z.slice(z.size - 1 - last, z.size - span.from).reverse()
        : z.slice(span.from, last + 1);
      return { entries: scored(entries), more };
    },
    countByScore(req) {
      const z = store.get(req.key);
      if (!z) return { count: 0n };
      const { lo, hi } = scoreSpan(z, req);
      return { count: BigInt(Math.max(0, hi - lo)) };
    },
  };
}

export function memSortedSetRank(store: SortedSetStore): SortedSetRankImpl {
  const rankOf = (key: string, member: Uint8Array, reverse: boolean) => {
    const z = store.get(key);
    const e = z?.byId.get(memberId(member));
    if (!z || !e) return { found: false };
    const rank = z.rank(e);
    return { found: true, rank: BigInt(reverse ? z.size - 1 - rank : rank) };
  };
  return {
    rank: (req) => rankOf(req.key, req.member, false),
    revRank: (req) => rankOf(req.key, req.member, true),
  };
}

/** Positions [lo, hi) of the members within a lex interval (meaningful when all scores are equal). */
function lexSpan(z: ZSet, req: { min?: LexBound; max?: LexBound }) {
  const min = req.min && { id: memberId(req.min.value), exclusive: req.min.exclusive };
  const max = req.max && { id: memberId(req.max.value), exclusive: req.max.exclusive };
  const lo = min ? z.bound((e) => e.id < min.id || (min.exclusive && e.id === min.id)) : 0;
  const hi = max ? z.bound((e) => e.id < max.id || (!max.exclusive && e.id === max.id)) : z.size;
  return { lo, hi };
}

export function memSortedSetLex(store: SortedSetStore): SortedSetLexImpl {
  return {
    rangeByLex(req) {
      const z = store.get(req.key);
      if (!z) return { members: [], more: false };
      const { lo, hi } = lexSpan(z, req);
      const p = page(z, lo, hi, req.reverse, req.offset, effectiveLimit(req.limit));
      return { members: p.entries.map((e) => e.member), more: p.more };
    },
    lexCount(req) {
      const z = store.get(req.key);
      if (!z) return { count: 0n };
      const { lo, hi } = lexSpan(z, req);
      return { count: BigInt(Math.max(0, hi - lo)) };
    },
  };
}

type Combined = Map<string, { member: Uint8Array; score: number }>;

/** ZUNION / ZINTER over the request's sources, as a member map (unordered). */
function combine(
  store: SortedSetStore,
  req: { keys: string[]; weights: number[]; aggregate: number },
  intersect: boolean,
): Combined {
  const sources = req.keys.map((k) => store.get(k));
  const weight = (i: number) => req.weights[i] ?? 1;
  const out: Combined = new Map();
  if (intersect) {
    if (sources.some((z) => !z)) return out;
    // Walk the smallest source; keep members found in every other one.
    let smallest = 0;
    for (let i = 1; i < sources.length; i++) if (sources[i]!.size < sources[smallest]!.size) smallest = i;
    for (const e of sources[smallest]!.byId.values()) {
      let score: number | undefined;
      let everywhere = true;
      for (let i = 0; i < sources.length && everywhere; i++) {
        const hit = sources[i]!.byId.get(e.id);
        if (!hit) everywhere = false;
        else {
          const s = weighted(hit.score, weight(i));
          score = score === undefined ? s : aggregateScores(req.aggregate, score, s);
        }
      }
      if (everywhere) out.set(e.id, { member: e.member, score: score! });
    }
    return out;
  }
  sources.forEach((z, i) => {
    if (!z) return;
    for (const e of z.byId.values()) {
      const s = weighted(e.score, weight(i));
      const prev = out.get(e.id);
      if (prev) prev.score = aggregateScores(req.aggregate, prev.score, s);
      else out.set(e.id, { member: e.member, score: s });
    }
  });
  return out;
}

export function memSortedSetOperations(store: SortedSetStore): SortedSetOperationsImpl {
  const storeResult = (destination: string, result: Combined) => {
    store.replace(destination, result);
    return { count: BigInt(result.size) };
  };
  return {
    unionStore: (req) => storeResult(req.destination, combine(store, req, false)),
    intersectStore: (req) => storeResult(req.destination, combine(store, req, true)),
    union: (req) => combinedAnswer(combine(store, req, false), req.limit),
    intersect: (req) => combinedAnswer(combine(store, req, true), req.limit),
  };
}

export { ZSet as MemSortedSet };
