import type { PgListener } from './listener.js';

/**
 * Wakes waiting Receives of one namespace when a message may have become receivable. Enqueues and
 * Nacks NOTIFY the namespace's queue channel with the queue name; the channel is listened to (on the
 * adapter's single LISTEN connection) from the first wait on, so a waiting Receive holds no pool
 * connection: it sleeps here until a notification or its poll interval, whichever comes first.
 */
export class QueueWakeups {
  readonly #waiters = new Map<string, Set<() => void>>();
  #listening: Promise<unknown> | undefined;
  #closed = false;

  constructor(
    private readonly listener: PgListener,
    /** The namespace's queue channel (see channelName). */
    readonly channel: string,
  ) {}

  /** Starts listening if not yet (failures are left to polling and retried on the next wait). */
  #listen(): void {
    if (this.#listening || this.#closed) return;
    const listening = this.listener
      .listen(this.channel, {
        notify: (queue) => this.wake(queue),
        lost: () => {
          if (this.#listening === listening) this.#listening = undefined;
        },
      })
      .catch(() => {
        if (this.#listening === listening) this.#listening = undefined;
      });
    this.#listening = listening;
  }

  /** Resolves after `ms`, when `queue` is woken, when `signal` aborts, or on close. */
  wait(queue: string, ms: number, signal: AbortSignal): Promise<void> {
    this.#listen();
    return new Promise((resolve) => {
      let set = this.#waiters.get(queue);
      if (!set) {
        set = new Set();
        this.#waiters.set(queue, set);
      }
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(queue) === waiters) this.#waiters.delete(queue);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
      if (this.#closed || signal.aborted) done();
    });
  }

  /** Wakes every waiter of `queue` (they poll again). */
  wake(queue: string): void {
    for (const done of [...(this.#waiters.get(queue) ?? [])]) done();
  }

  /** Wakes everyone for good (instance closing). */
  close(): void {
    this.#closed = true;
    for (const queue of [...this.#waiters.keys()]) this.wake(queue);
  }
}
