// Helpers shared by the messaging conformance suites (pub/sub, streams, queues); adapters may use them in
// their own tests too. Everything waits by polling with a deadline: suites must stay reliable on a loaded
// 2-core machine, so deadlines are generous and nothing asserts durations.
import type { CallContext, Limits } from '@prism/sdk';

export { expectCode, uniqueNamespace } from '@prism/keyvalue-basic/conformance';

/** Limits the messaging suites run adapters with (small payload limit keeps the over-limit case cheap). */
export const MESSAGING_CONFORMANCE_LIMITS: Partial<Limits> = { maxKeyBytes: 512, maxValueBytes: 256 * 1024 };

/** Default deadline for a condition to become true. */
export const DEFAULT_DEADLINE_MS = 15_000;

/** Options every messaging suite accepts. */
export interface MessagingSuiteOptions {
  /**
   * Whether the backend carries message metadata. Set `false` ONLY for a backend that cannot (document it in
   * the adapter's README); the metadata round-trip test is then skipped and metadata may arrive empty.
   */
  readonly metadata?: boolean;
  /**
   * Whether stored messages survive closing the plugin instance and creating a new one for the same namespace
   * (the "proxy restart" tests of durable flavours). Set `false` ONLY for in-process backends (MemStore).
   */
  readonly durable?: boolean;
  /** Overrides {@link DEFAULT_DEADLINE_MS} (e.g. for backends with slow rebalances). */
  readonly deadlineMs?: number;
}

/** Resolves after `ms`; used only between polls, never to wait for a condition blindly. */
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, or throws after `timeoutMs`
 * with a message naming `what`.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = DEFAULT_DEADLINE_MS,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(intervalMs);
  }
}

/**
 * Consumes a server stream in the background, collecting every item, until cancelled. Models one client
 * stream: {@link cancel} aborts its signal like a client disconnect.
 */
export class StreamCollector<T> {
  readonly items: T[] = [];
  readonly #abort = new AbortController();
  #ended = false;
  #error: unknown;
  readonly #done: Promise<void>;

  constructor(open: (ctx: CallContext) => AsyncIterable<T>) {
    const ctx: CallContext = { signal: this.#abort.signal };
    this.#done = (async () => {
      try {
        for await (const item of open(ctx)) this.items.push(item);
      } catch (err) {
        if (!this.#abort.signal.aborted) this.#error = err;
      } finally {
        this.#ended = true;
      }
    })();
  }

  /** True once the stream finished (normally, with an error, or after cancel). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The error the stream failed with, if any (errors after cancel are ignored). */
  get error(): unknown {
    return this.#error;
  }

  /** Waits until `predicate(items)` holds; fails early when the stream ends or errors first. */
  async until(what: string, predicate: (items: readonly T[]) => boolean, timeoutMs = DEFAULT_DEADLINE_MS) {
    await pollUntil(
      what,
      () => {
        if (predicate(this.items)) return true;
        if (this.#error !== undefined) throw this.#error;
        if (this.#ended) throw new Error(`stream ended before ${what} (${this.items.length} items received)`);
        return false;
      },
      timeoutMs,
      10,
    );
    return this.items;
  }

  /** Waits until at least `n` items arrived. */
  atLeast(n: number, what = `${n} items`, timeoutMs = DEFAULT_DEADLINE_MS): Promise<readonly T[]> {
    return this.until(what, (items) => items.length >= n, timeoutMs);
  }

  /** Cancels the stream (client disconnect) and waits until the implementation ended it. */
  async cancel(timeoutMs = DEFAULT_DEADLINE_MS): Promise<void> {
    this.#abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`stream did not end within ${timeoutMs} ms after cancellation`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Bytes 0x00..0xFF once each: every byte value must survive transport intact. */
export const ALL_BYTES: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Metadata exercising the allowed key syntax and non-ASCII values. */
export const SAMPLE_METADATA: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/octet-stream',
  trace_id: 'abc-123',
  'x.version': '2',
  note: 'grüße ✓',
  empty: '',
});

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Asserts-free equality of byte arrays (works across Buffer/Uint8Array). */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** Invalid topic names every messaging interface must reject. */
export const INVALID_TOPICS: readonly string[] = [
  '',
  'a..b',
  '.a',
  'a.',
  'has space',
  'wild.*',
  'tail.>',
  'x'.repeat(129),
];
