// Bounded buffers that turn a backend subscription into the AsyncIterable a server-streaming RPC returns,
// with flow control: a slow client never makes the proxy hold more than a fixed number of messages.
//  - DroppingBuffer: for at-most-once PUSH sources (NATS core, Redis pub/sub, LISTEN/NOTIFY). When full it
//    drops new messages and counts them (metric `messages_dropped_total`).
//  - PullBuffer: for at-least-once sources (JetStream, Kafka, Redis Streams, SQL queues). It fetches from the
//    backend only when the consumer asks for more, so unconsumed messages stay in the backend.
// Both release the backend subscription exactly once: when the consumer stops iterating (break/return/
// throw), when the AbortSignal fires, or when the source ends.
import type { MetricLabels, PluginMetrics } from './metrics.js';

/** Releases a backend subscription/consumer. Errors are swallowed: releasing is best effort. */
export type Release = () => void | Promise<void>;

/** Name of the counter incremented for every message a {@link DroppingBuffer} drops. */
export const MESSAGES_DROPPED_METRIC = 'messages_dropped_total';

/** Options of {@link DroppingBuffer}. */
export interface DroppingBufferOptions {
  /** Maximum messages held for the consumer; pushes beyond it are dropped. */
  readonly capacity: number;
  /** Ends the iteration and releases the subscription when aborted (client gone, shutdown). */
  readonly signal?: AbortSignal;
  /** Receives `messages_dropped_total` increments. */
  readonly metrics?: PluginMetrics;
  /** Labels of the drop counter, e.g. `{ interface: 'pubsub_basic' }`. */
  readonly labels?: MetricLabels;
  /** Called once when the buffer is released (same as {@link DroppingBuffer.onRelease}). */
  readonly release?: Release;
}

type Waiter<T> = (result: IteratorResult<T>) => void;

/** Shared release bookkeeping: runs registered release functions once and tracks the abort signal. */
abstract class Releasable {
  #releases: Release[] = [];
  #released = false;
  #releasing: Promise<void> | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => void this.release();
  #markReleased!: () => void;
  /** Resolves when the buffer is released; lets pending backend calls be raced against it. */
  protected readonly whenReleased = new Promise<void>((resolve) => {
    this.#markReleased = resolve;
  });

  protected constructor(signal: AbortSignal | undefined, release: Release | undefined) {
    this.#signal = signal;
    if (release) this.#releases.push(release);
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** True once released: nothing more is accepted or fetched. */
  get released(): boolean {
    return this.#released;
  }

  /** Registers a release function; runs it at once when the buffer is already released. */
  onRelease(fn: Release): void {
    if (this.#released) void runQuietly(fn);
    else this.#releases.push(fn);
  }

  /** Stops the buffer, wakes a waiting consumer (done) and releases the backend. Idempotent. */
  release(): Promise<void> {
    if (!this.#releasing) {
      this.#released = true;
      this.#markReleased();
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.wake();
      const fns = this.#releases.splice(0);
      this.#releasing = Promise.all(fns.map(runQuietly)).then(() => {});
    }
    return this.#releasing;
  }

  /** Wakes a pending consumer after release. */
  protected abstract wake(): void;
}

async function runQuietly(fn: Release): Promise<void> {
  try {
    await fn();
  } catch {
    // Best effort: the backend may already be gone; nothing useful to do with the error here.
  }
}

/**
 * A bounded queue for at-most-once push sources. The backend callback calls {@link push}; one consumer
 * iterates. When `capacity` messages are waiting, new ones are dropped (newest dropped, so what is
 * delivered stays in order) and counted in {@link dropped} and the `messages_dropped_total` metric.
 */
export class DroppingBuffer<T> extends Releasable implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #metrics: PluginMetrics | undefined;
  readonly #labels: MetricLabels | undefined;
  #items: T[] = [];
  #head = 0;
  #waiter: Waiter<T> | undefined;
  #ended = false;
  #error: unknown;
  #dropped = 0;
  #iterating = false;

  constructor(opts: DroppingBufferOptions) {
    super(opts.signal, opts.release);
    if (!(opts.capacity >= 1)) throw new RangeError(`capacity must be at least 1 (got ${opts.capacity})`);
    this.#capacity = opts.capacity;
    this.#metrics = opts.metrics;
    this.#labels = opts.labels;
  }

  /** Messages dropped so far because the consumer was too slow. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages waiting for the consumer. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Offers a message. Returns false when it was dropped (buffer full) or the buffer is closed. */
  push(item: T): boolean {
    if (this.released || this.#ended) return false;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: item, done: false });
      return true;
    }
    if (this.size >= this.#capacity) {
      this.#dropped++;
      this.#metrics?.increment(MESSAGES_DROPPED_METRIC, this.#labels);
      return false;
    }
    this.#items.push(item);
    return true;
  }

  /** The source ended normally: the consumer gets what is buffered, then the iteration ends. */
  end(): void {
    this.#ended = true;
    this.#flushWaiter();
  }

  /** The source failed: the consumer gets what is buffered, then `next()` rejects with `error`. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = error ?? new Error('subscription failed');
    this.end();
  }

  protected wake(): void {
    this.#items = [];
    this.#head = 0;
    this.#flushWaiter();
  }

  #flushWaiter(): void {
    if (!this.#waiter || this.size > 0) return;
    const w = this.#waiter;
    this.#waiter = undefined;
    w({ value: undefined, done: true });
  }

  #shift(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined as T;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  async #next(): Promise<IteratorResult<T>> {
    if (this.size > 0) return { value: this.#shift(), done: false };
    if (this.released) return { value: undefined, done: true };
    if (this.#ended) {
      void this.release();
      if (this.#error !== undefined) throw this.#error;
      return { value: undefined, done: true };
    }
    if (this.#waiter)
      throw new Error('DroppingBuffer supports a single consumer awaiting one next() at a time');
    const result = await new Promise<IteratorResult<T>>((resolve) => {
      this.#waiter = resolve;
    });
    if (result.done && this.#ended && !this.released) return this.#next();
    return result;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error('DroppingBuffer can be iterated only once');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this.release();
        return { value: undefined, done: true };
      },
      throw: async (err: unknown) => {
        await this.release();
        throw err;
      },
    };
  }
}

/** Options of {@link PullBuffer}. */
export interface PullBufferOptions<T> {
  /**
   * Fetches at most `max` (≥ 1) messages from the backend. It should wait (long-poll) a while when
   * nothing is available and return early when `signal` aborts. An empty result means "nothing yet":
   * the buffer asks again as long as the consumer keeps pulling.
   */
  readonly fetch: (max: number, signal: AbortSignal) => Promise<readonly T[]>;
  /** Maximum messages fetched per call, i.e. held in memory at once. Default 64. */
  readonly batchSize?: number;
  /**
   * Maximum messages handed to the consumer and not yet {@link PullBuffer.settle}d (acked); the buffer
   * stops fetching while the window is full. Default: no window (only `batchSize` bounds memory).
   */
  readonly maxInFlight?: number;
  /** Ends the iteration and releases the consumer when aborted. */
  readonly signal?: AbortSignal;
  /** Called once when the iteration ends (consumer stops, abort, source error). */
  readonly release?: Release;
}

/**
 * A pull-based iterator for at-least-once sources: the backend is asked for messages only when the
 * consumer pulls and the local batch is empty, never more than `batchSize` at once and never beyond the
 * `maxInFlight` window of unsettled messages. Unconsumed messages therefore stay in the backend
 * (where they are redelivered to someone else if this consumer dies).
 */
export class PullBuffer<T> extends Releasable implements AsyncIterable<T> {
  readonly #fetch: PullBufferOptions<T>['fetch'];
  readonly #batchSize: number;
  readonly #maxInFlight: number;
  readonly #fetchAbort = new AbortController();
  #batch: T[] = [];
  #inFlight = 0;
  #fetches = 0;
  #busy = false;
  #wakeUp: (() => void) | undefined;
  #iterating = false;

  constructor(opts: PullBufferOptions<T>) {
    super(opts.signal, opts.release);
    this.#fetch = opts.fetch;
    this.#batchSize = opts.batchSize ?? 64;
    this.#maxInFlight = opts.maxInFlight ?? Number.POSITIVE_INFINITY;
    if (!(this.#batchSize >= 1)) throw new RangeError(`batchSize must be at least 1 (got ${opts.batchSize})`);
    if (!(this.#maxInFlight >= 1))
      throw new RangeError(`maxInFlight must be at least 1 (got ${opts.maxInFlight})`);
  }

  /** Messages delivered to the consumer and not settled yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How many times the backend was asked for messages. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** Messages fetched and not yet handed to the consumer. */
  get buffered(): number {
    return this.#batch.length;
  }

  /** Frees `count` slots of the in-flight window (call when messages are acked or nacked). */
  settle(count = 1): void {
    this.#inFlight = Math.max(0, this.#inFlight - count);
    this.#wake();
  }

  protected wake(): void {
    this.#fetchAbort.abort();
    this.#batch = [];
    this.#wake();
  }

  #wake(): void {
    const w = this.#wakeUp;
    this.#wakeUp = undefined;
    w?.();
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeUp = resolve;
    });
  }

  async #next(): Promise<IteratorResult<T>> {
    if (this.#busy) throw new Error('PullBuffer supports a single consumer awaiting one next() at a time');
    this.#busy = true;
    try {
      while (!this.released) {
        if (this.#inFlight >= this.#maxInFlight) {
          await this.#sleep();
          continue;
        }
        const item = this.#batch.shift();
        if (item !== undefined) {
          this.#inFlight++;
          return { value: item, done: false };
        }
        await this.#fill();
      }
      return { value: undefined, done: true };
    } catch (err) {
      await this.release();
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  async #fill(): Promise<void> {
    const max = Math.min(this.#batchSize, this.#maxInFlight - this.#inFlight);
    this.#fetches++;
    const signal = this.#fetchAbort.signal;
    // Race the fetch against release so an abort ends the iteration even if the backend call lingers.
    const released = this.whenReleased.then(() => [] as readonly T[]);
    const got = await Promise.race([this.#fetch(max, signal), released]);
    if (this.released) return;
    if (got.length > max)
      throw new Error(`fetch returned ${got.length} messages but only ${max} were requested`);
    this.#batch.push(...got);
    // An empty answer: let other work run before asking again.
    if (got.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error('PullBuffer can be iterated only once');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this.release();
        return { value: undefined, done: true };
      },
      throw: async (err: unknown) => {
        await this.release();
        throw err;
      },
    };
  }
}
