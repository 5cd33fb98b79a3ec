/** Target chunk length; chunks split at twice this. Small enough that splicing a chunk is cheap. */
const LOAD = 512;

/** Index of the first element of `arr` that is >= key (or > key when `exclusive`). */
function bound(arr: readonly string[], key: string, exclusive: boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = arr[mid]!;
    if (v < key || (exclusive && v === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A sorted set of strings kept as a list of sorted chunks (the layout of Python's sortedcontainers):
 * insert and delete are a binary search plus a splice within one chunk of at most 2×{@link LOAD}
 * keys, and seeking to a key is two binary searches. That keeps Scan pages O(log n + page) and writes
 * cheap at 100k+ keys, where one flat sorted array would cost O(n) per insert and sorting on demand
 * O(n log n) per page. Order is JavaScript string order (UTF-16 code units).
 */
export class SortedKeys {
  private chunks: string[][] = [];
  /** Last (largest) key of each chunk, for the chunk-level binary search. */
  private maxes: string[] = [];
  private count = 0;

  /** Builds the index from keys in any order. */
  static from(keys: Iterable<string>): SortedKeys {
    const all = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const index = new SortedKeys();
    for (let i = 0; i < all.length; i += LOAD) {
      const chunk = all.slice(i, i + LOAD);
      index.chunks.push(chunk);
      index.maxes.push(chunk.at(-1)!);
    }
    index.count = all.length;
    return index;
  }

  get size(): number {
    return this.count;
  }

  /** Adds a key; returns false when it was already present. */
  add(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.maxes.push(key);
      this.count = 1;
      return true;
    }
    let c = bound(this.maxes, key, false);
    if (c === this.chunks.length) c--;
    const chunk = this.chunks[c]!;
    const i = bound(chunk, key, false);
    if (chunk[i] === key) return false;
    chunk.splice(i, 0, key);
    if (i === chunk.length - 1) this.maxes[c] = key;
    this.count++;
    if (chunk.length > 2 * LOAD) {
      const tail = chunk.splice(LOAD);
      this.chunks.splice(c + 1, 0, tail);
      this.maxes.splice(c, 1, chunk.at(-1)!, tail.at(-1)!);
    }
    return true;
  }

  /** Removes a key; returns false when it was absent. */
  delete(key: string): boolean {
    const c = bound(this.maxes, key, false);
    const chunk = this.chunks[c];
    if (!chunk) return false;
    const i = bound(chunk, key, false);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(c, 1);
      this.maxes.splice(c, 1);
    } else if (i === chunk.length) {
      this.maxes[c] = chunk.at(-1)!;
    }
    return true;
  }

  /**
   * Keys in order from `start` (inclusive, or exclusive when `exclusive`). The index must not be
   * modified while the iterator is in use; callers collect a page synchronously and re-seek later.
   */
  *from(start: string, exclusive = false): Generator<string> {
    let c = bound(this.maxes, start, exclusive);
    if (c === this.chunks.length) return;
    let i = bound(this.chunks[c]!, start, exclusive);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length; i++) yield chunk[i]!;
    }
  }
}
