/** Something with an expiry time that can sit in an {@link ExpiryHeap}. */
export interface Expiring {
  /** Monotonic expiry time in ms ({@link performance.now} clock); only meaningful while in the heap. */
  expiresAt: number;
  /** Position in the heap, -1 when absent. Maintained by the heap so removal is O(log n). */
  heapIndex: number;
}

/**
 * Indexed binary min-heap ordered by `expiresAt`. Each item knows its index, so a TTL change or a delete
 * removes or re-sifts exactly that item: the heap never holds stale entries and stays as large as the
 * number of keys that have a TTL.
 */
export class ExpiryHeap<T extends Expiring> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The item expiring first, if any. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an item, or re-positions it when it is already in the heap (its `expiresAt` changed). */
  upsert(item: T): void {
    if (item.heapIndex >= 0) {
      this.siftUp(item.heapIndex);
      this.siftDown(item.heapIndex);
      return;
    }
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  /** Removes an item; no-op when it is not in the heap. */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.items.pop()!;
    if (i === this.items.length) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (p.expiresAt <= item.expiresAt) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1]!.expiresAt < items[child]!.expiresAt) child++;
      const c = items[child]!;
      if (c.expiresAt >= item.expiresAt) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
