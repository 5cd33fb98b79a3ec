import type { ConnectError } from '@connectrpc/connect';
import type { CallContext } from './call.js';
import { deadlineExceeded, unavailable } from './errors.js';

/** How often the shared sweeper looks for expired operations while any are in flight. */
const TICK_MS = 10;

/** What {@link BackendTimeouts} reports when operations hit the adapter's timeout. */
export interface StallInfo {
  /** How many operations expired in this sweep. */
  readonly expired: number;
  /**
   * True when no operation of this instance settled (answer or error) since the oldest expired one was
   * started: the backend or the connection answers nothing at all, so it is probably wedged (a frozen
   * server, a half-open socket) rather than merely slow on one request. Recycle the connection.
   */
  readonly wedged: boolean;
}

/** Settings of one {@link BackendTimeouts}. */
export interface BackendTimeoutOptions {
  /** Names the backend in messages, e.g. `redis backend of namespace "sessions" (redis://127.0.0.1:6379)`. */
  readonly where: string;
  /** The adapter's bound of one backend operation in ms (its command/query timeout). */
  readonly timeoutMs: number;
  /** The config field that sets `timeoutMs`, named in the UNAVAILABLE message (e.g. `command_timeout_ms`). */
  readonly setting?: string;
  /** Runs (once per sweep, never inside `run`) when operations expired by the adapter's timeout. */
  readonly onTimeout?: (info: StallInfo) => void;
}

/** Per-operation options of {@link BackendTimeouts.run}. */
export interface BoundOptions {
  /**
   * Added to the adapter's timeout for an operation that legitimately waits on the server, e.g. a blocking
   * read (`XREAD BLOCK 2000`, a JetStream fetch with `expires`). The client deadline still applies.
   */
  readonly extraMs?: number;
  /** Runs when the operation expires (e.g. to cancel the query on the server); errors are ignored. */
  readonly onExpire?: (error: ConnectError) => void;
}

class Pending {
  constructor(
    readonly startedAt: number,
    readonly expiresAt: number,
    /** The client deadline, not the adapter's timeout, is what ends this operation. */
    readonly byDeadline: boolean,
    /** `settled` of the owner when the operation started (nothing answered since = wedged). */
    readonly mark: number,
    readonly reject: (err: unknown) => void,
    readonly onExpire: ((error: ConnectError) => void) | undefined,
  ) {}
}

// One sweeper for the whole process: one unref'd interval while any operation is in flight, none otherwise.
const active = new Set<BackendTimeouts>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = Date.now();
  for (const b of active) if (b.sweep(now)) active.delete(b);
  if (active.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = undefined;
  }
}

function activate(b: BackendTimeouts): void {
  active.add(b);
  if (!ticker) {
    ticker = setInterval(tick, TICK_MS);
    ticker.unref();
  }
}

/**
 * Bounds backend operations by min(client deadline, the adapter's timeout), without a timer per call:
 * operations in flight sit in insertion-ordered sets that one process-wide sweeper (every 10 ms, only
 * while something is in flight) checks from the oldest. An expired operation's promise rejects with
 *  - DEADLINE_EXCEEDED when the caller's deadline (`ctx.deadline`) came first,
 *  - UNAVAILABLE when the adapter's own timeout did, naming the backend, the timeout and its setting;
 * its late answer or error is dropped. `onTimeout` then tells the adapter whether the backend looks
 * wedged (nothing at all answered meanwhile), so it can recycle the connection.
 *
 * Use one instance per backend connection (or pool). The in-memory adapters need none.
 */
export class BackendTimeouts {
  readonly where: string;
  readonly timeoutMs: number;
  private readonly setting: string | undefined;
  private readonly onTimeout: ((info: StallInfo) => void) | undefined;
  /** Operations ending at start + timeoutMs: expiry order is start order, so a sweep stops at the first live one. */
  private readonly ordered = new Set<Pending>();
  /** Operations with an earlier client deadline or extra time: checked one by one (usually few). */
  private readonly unordered = new Set<Pending>();
  /** Operations settled so far (answers and errors). */
  private settled = 0;

  constructor(opts: BackendTimeoutOptions) {
    this.where = opts.where;
    this.timeoutMs = opts.timeoutMs;
    this.setting = opts.setting;
    this.onTimeout = opts.onTimeout;
  }

  /** Operations in flight. */
  get size(): number {
    return this.ordered.size + this.unordered.size;
  }

  /**
   * `work` bounded by min(`ctx.deadline`, now + timeoutMs [+ extraMs]). A deadline already passed rejects
   * at once (DEADLINE_EXCEEDED); `work` is then left to settle on its own, unobserved.
   */
  run<T>(work: PromiseLike<T>, ctx?: Pick<CallContext, 'deadline'>, opts?: BoundOptions): Promise<T> {
    const now = Date.now();
    const extra = opts?.extraMs ?? 0;
    let expiresAt = now + this.timeoutMs + extra;
    let byDeadline = false;
    const deadline = ctx?.deadline;
    if (deadline !== undefined && deadline <= expiresAt) {
      if (deadline <= now) {
        work.then(undefined, () => {});
        return Promise.reject(this.deadlineError(0));
      }
      expiresAt = deadline;
      byDeadline = true;
    }
    const set = byDeadline || extra !== 0 ? this.unordered : this.ordered;
    return new Promise<T>((resolve, reject) => {
      const p = new Pending(now, expiresAt, byDeadline, this.settled, reject, opts?.onExpire);
      if (this.size === 0) activate(this);
      set.add(p);
      work.then(
        (value) => {
          if (!set.delete(p)) return;
          this.settled++;
          resolve(value);
        },
        (err: unknown) => {
          if (!set.delete(p)) return;
          this.settled++;
          reject(err);
        },
      );
    });
  }

  /** Expires what is due at `now`; true when nothing is left in flight. Called by the shared sweeper. */
  sweep(now: number): boolean {
    let expired = 0;
    let wedged = false;
    for (const p of this.ordered) {
      if (p.expiresAt > now) break;
      this.ordered.delete(p);
      if (this.expire(p)) {
        expired++;
        if (p.mark === this.settled) wedged = true;
      }
    }
    if (this.unordered.size > 0)
      for (const p of this.unordered) {
        if (p.expiresAt > now) continue;
        this.unordered.delete(p);
        if (this.expire(p)) {
          expired++;
          if (p.mark === this.settled) wedged = true;
        }
      }
    if (expired > 0 && this.onTimeout)
      try {
        this.onTimeout({ expired, wedged });
      } catch {
        // the adapter's recycle hook must not break the sweeper
      }
    return this.size === 0;
  }

  /** Rejects one expired operation; true when the adapter's timeout (not the client deadline) ended it. */
  private expire(p: Pending): boolean {
    const err = p.byDeadline
      ? this.deadlineError(p.expiresAt - p.startedAt)
      : unavailable(
          `${this.where} did not answer within ${p.expiresAt - p.startedAt} ms` +
            `${this.setting ? ` (${this.setting})` : ''}; the operation was abandoned (a write may still apply)`,
        );
    if (p.onExpire)
      try {
        p.onExpire(err);
      } catch {
        // best effort (e.g. a cancel request to a frozen server)
      }
    p.reject(err);
    return !p.byDeadline;
  }

  private deadlineError(ms: number): ConnectError {
    return deadlineExceeded(
      `deadline exceeded: ${this.where} did not answer within the call's deadline (${ms} ms)`,
    );
  }
}
