import type { Call } from './call.js';
import { toConnectError } from './errors.js';

/**
 * The next step of a pipeline. For a unary call it returns the response or a promise of it; for a
 * server stream, an AsyncIterable of responses (or a promise of one). Sync answers stay sync so an
 * in-memory backend costs no extra promise.
 */
export type Next = (call: Call) => unknown;

/**
 * A cross-cutting concern: wraps the next step. Most middleware only look at the call and register
 * `call.onEnd(...)`, which fires once for unary and streaming calls alike:
 *
 * ```ts
 * const timing: Middleware = (next) => (call) => {
 *   const t0 = performance.now();
 *   call.onEnd((err) => log(call.procedure, err?.code, performance.now() - t0));
 *   return next(call);
 * };
 * ```
 */
export type Middleware = (next: Next) => Next;

/** Composes middleware around `terminal`; the first middleware is the outermost. */
export function compose(middleware: readonly Middleware[], terminal: Next): Next {
  let next = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) next = (middleware[i] as Middleware)(next);
  return next;
}

/** True for a thenable (what `next` returns for asynchronous answers). */
export function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** Counts calls in flight and lets a drain wait for them. */
export class InflightCounter {
  private n = 0;
  private waiters: (() => void)[] | undefined;

  get count(): number {
    return this.n;
  }

  enter(): void {
    this.n++;
  }

  leave(): void {
    if (--this.n === 0 && this.waiters) {
      const waiters = this.waiters;
      this.waiters = undefined;
      for (const fn of waiters) fn();
    }
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`, with the number still running. */
  idle(timeoutMs: number): Promise<number> {
    if (this.n === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        resolve(this.n);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters?.filter((w) => w !== finish);
        finish();
      }, timeoutMs);
      this.waiters = [...(this.waiters ?? []), finish];
    });
  }
}

/**
 * A composed chain that every door of a process runs its calls through. It owns the call lifecycle:
 * it counts calls (and open streams) in flight, maps whatever is thrown to a ConnectError, and ends
 * each call exactly once, so middleware see `onEnd` for unary calls and streams alike.
 */
export class Pipeline {
  readonly inflight = new InflightCounter();
  /** Open server streams (a drain waits for unary calls, then ends streams). */
  streams = 0;
  private readonly chain: Next;

  constructor(middleware: readonly Middleware[], terminal: Next) {
    this.chain = compose(middleware, terminal);
  }

  /** Runs a unary call: the response, or a promise of it; failures reject with a ConnectError. */
  unary(call: Call): unknown {
    this.inflight.enter();
    let out: unknown;
    try {
      out = this.chain(call);
    } catch (err) {
      return Promise.reject(this.failed(call, err));
    }
    if (!isPromise(out)) return this.succeeded(call, out);
    return out.then(
      (res) => this.succeeded(call, res),
      (err) => {
        throw this.failed(call, err);
      },
    );
  }

  /** Runs a server-streaming call; iterating it runs the chain, and the call ends with the iteration. */
  async *stream(call: Call): AsyncIterable<unknown> {
    this.inflight.enter();
    this.streams++;
    let error: ReturnType<typeof toConnectError> | undefined;
    try {
      yield* (await this.chain(call)) as AsyncIterable<unknown>;
    } catch (err) {
      error = toConnectError(err, `namespace "${call.namespace}"`);
      throw error;
    } finally {
      this.streams--;
      call.end(error ?? call.abortReason);
      this.inflight.leave();
    }
  }

  private succeeded(call: Call, res: unknown): unknown {
    call.end(undefined);
    this.inflight.leave();
    return res;
  }

  private failed(call: Call, err: unknown) {
    const error = toConnectError(err, `namespace "${call.namespace}"`);
    call.end(error);
    this.inflight.leave();
    return error;
  }
}
