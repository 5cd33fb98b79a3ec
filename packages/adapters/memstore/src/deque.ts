/** A double-ended queue on a growable ring buffer: O(1) push and pop at both ends. */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initialCapacity = 8) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.buf = new Array(cap);
  }

  get length(): number {
    return this.len;
  }

  pushBack(value: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & (this.buf.length - 1)] = value;
    this.len++;
  }

  pushFront(value: T): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1) & (this.buf.length - 1);
    this.buf[this.head] = value;
    this.len++;
  }

  popFront(): T | undefined {
    if (this.len === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    return value;
  }

  popBack(): T | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) & (this.buf.length - 1);
    const value = this.buf[i];
    this.buf[i] = undefined;
    this.len--;
    return value;
  }

  /** The value at position i (0 = front), or undefined outside [0, length). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.head + i) & (this.buf.length - 1)];
  }

  /** Replaces the value at position i (0 = front); false outside [0, length). */
  setAt(i: number, value: T): boolean {
    if (i < 0 || i >= this.len) return false;
    this.buf[(this.head + i) & (this.buf.length - 1)] = value;
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.len; i++) yield this.buf[(this.head + i) & (this.buf.length - 1)] as T;
  }

  /** Doubles the capacity (always a power of two, so indexes wrap with a mask), unrolling the ring. */
  private grow(): void {
    const next: (T | undefined)[] = new Array(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
