/**
 * A bounded buffer for live tails: keeps the newest `capacity` items and counts what it dropped, so a
 * fast topic cannot grow the page's memory without bound.
 */
export class BoundedBuffer<T> {
  private items: T[] = [];
  /** Items pushed since the last clear. */
  received = 0;
  /** Of those, items dropped because the buffer was full. */
  dropped = 0;

  constructor(private capacity: number) {
    if (!(capacity >= 1)) throw new Error('capacity must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  get limit(): number {
    return this.capacity;
  }

  push(item: T): void {
    this.received++;
    this.items.push(item);
    this.trim();
  }

  /** Changes the capacity, dropping the oldest items beyond it. */
  resize(capacity: number): void {
    if (!(capacity >= 1)) throw new Error('capacity must be at least 1');
    this.capacity = capacity;
    this.trim();
  }

  /** The newest items, newest first (at most `capacity`). */
  newestFirst(): T[] {
    return this.items.slice().reverse();
  }

  clear(): void {
    this.items = [];
    this.received = 0;
    this.dropped = 0;
  }

  private trim(): void {
    const over = this.items.length - this.capacity;
    if (over > 0) {
      this.items.splice(0, over);
      this.dropped += over;
    }
  }
}
