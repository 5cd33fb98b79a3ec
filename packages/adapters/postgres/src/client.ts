import {
  BackendTimeouts,
  type CallContext,
  Code,
  ConnectError,
  deadlineExceeded,
  invalidArgument,
  type Logger,
  unavailable,
} from '@prism/sdk';
import postgres from 'postgres';
import { clientOptions, describeTarget, type PostgresConfig, passwordOf } from './config.js';
import { mapPgError, sqlState } from './errors.js';

/** The postgres.js client type used throughout the adapter. */
export type Sql = postgres.Sql;

/** A postgres.js query (lazy: it runs when awaited). */
type Query<T> = PromiseLike<T> & { cancel?(): unknown };

/**
 * One namespace's connection pool to PostgreSQL, shared by every interface the adapter serves: runs calls
 * bounded by min(client deadline, query_timeout_ms) and canceled when the caller goes away, replaces the
 * pool when PostgreSQL stops answering altogether, maps errors to Connect codes without secrets, and runs
 * background jobs (e.g. the TTL sweeper) on unref'd timers.
 */
export class PgClient {
  /**
   * The pool, as a stable handle: it forwards to the current postgres.js instance, which is replaced
   * when the server stops answering (see {@link recycle}), so handles captured at start stay valid.
   */
  readonly sql: Sql;
  private pool: Sql;
  /** Bounds every query by min(client deadline, query_timeout_ms); a wedge there recycles the pool. */
  private readonly bounds: BackendTimeouts;
  /** The same while the last login was refused: connect_timeout_ms when shorter. */
  private readonly refusedBounds: BackendTimeouts;
  /** When the pool was last replaced (ms epoch). */
  private recycledAt = 0;
  /** Where we connect (password redacted), for messages. */
  readonly target: string;
  private readonly where: string;
  private readonly password: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Queries in flight per caller signal: one abort listener per signal, however many calls share it. */
  private readonly inflight = new WeakMap<AbortSignal, Set<Query<unknown>>>();
  private closed = false;
  /**
   * The last refused login (28P01), until a query succeeds again. postgres.js can leave a call waiting on
   * a connection whose re-login keeps failing; while this is set, calls get connect_timeout_ms, then this.
   */
  private authFailure: ConnectError | undefined;

  constructor(
    readonly config: PostgresConfig,
    readonly namespace: string,
    readonly logger: Logger,
  ) {
    this.target = describeTarget(config);
    this.password = passwordOf(config);
    this.where = `postgres backend of namespace "${namespace}"`;
    this.pool = this.makePool();
    const current = () => this.pool;
    // An arrow function target: no non-configurable `prototype` to constrain the traps.
    this.sql = new Proxy((() => {}) as unknown as Sql, {
      apply: (_t, _this, args: unknown[]) => Reflect.apply(current(), undefined, args),
      get: (_t, p) => {
        const pool = current();
        const v: unknown = Reflect.get(pool, p);
        return typeof v === 'function' ? v.bind(pool) : v;
      },
    });
    const timeouts = { where: this.where, setting: 'query_timeout_ms' };
    this.bounds = new BackendTimeouts({
      ...timeouts,
      timeoutMs: config.query_timeout_ms,
      onTimeout: ({ wedged }) => {
        if (wedged) this.recycle();
      },
    });
    this.refusedBounds = new BackendTimeouts({
      ...timeouts,
      timeoutMs: Math.min(config.connect_timeout_ms, config.query_timeout_ms),
    });
  }

  private makePool(): Sql {
    const options = clientOptions(this.config, `prism:${this.namespace}`.slice(0, 63));
    return this.config.url ? postgres(this.config.url, options) : postgres(options);
  }

  /**
   * Replaces the pool after queries got no answer within query_timeout_ms while nothing else was answered
   * either: its connections may be wedged for good (a half-open socket answers nothing, ever, and
   * postgres.js would keep queueing on it). Their queries were already answered UNAVAILABLE; the new pool
   * connects on demand (each attempt bounded by connect_timeout_ms). At most once per query timeout.
   */
  private recycle(): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.recycledAt < this.config.query_timeout_ms) return;
    this.recycledAt = now;
    this.logger.warn(
      `${this.where}: no answer within ${this.config.query_timeout_ms} ms (query_timeout_ms); replacing the connection pool`,
    );
    const old = this.pool;
    this.pool = this.makePool();
    old.end({ timeout: 0 }).catch(() => {});
  }

  /** Removes the password from a message, wherever a driver or server might have echoed it. */
  readonly scrub = (s: string): string =>
    this.password && this.password.length > 0 ? s.split(this.password).join('***') : s;

  /**
   * Runs a query bounded by min(`ctx.deadline`, query_timeout_ms): UNAVAILABLE at the query timeout
   * (DEADLINE_EXCEEDED at the caller's deadline), and the query is canceled on the server then and when
   * the caller goes away. Takes the call's context, or just a signal (no deadline).
   */
  async run<T>(query: Query<T>, ctx?: AbortSignal | Pick<CallContext, 'signal' | 'deadline'>): Promise<T> {
    if (this.closed) throw unavailable(`${this.where} is closed`);
    const signal = ctx === undefined ? undefined : ctx instanceof AbortSignal ? ctx : ctx.signal;
    const bound = ctx instanceof AbortSignal ? undefined : ctx;
    if (signal?.aborted) throw new ConnectError(`${this.where}: call canceled`, Code.Canceled);
    // A lazy query only runs once awaited: past the deadline, do not start it at all.
    if (bound?.deadline !== undefined && bound.deadline <= Date.now())
      throw deadlineExceeded(`deadline exceeded before ${this.where} was asked`);
    const untrack = signal ? this.track(signal, query) : undefined;
    const refused = this.authFailure;
    try {
      const result = await (refused ? this.refusedBounds : this.bounds).run(query, bound, {
        onExpire: () => query.cancel?.(),
      });
      this.authFailure = undefined;
      return result;
    } catch (err) {
      // A query we canceled because the caller left fails with query_canceled: report the real reason.
      if (signal?.aborted) throw new ConnectError(`${this.where}: call canceled`, Code.Canceled);
      // Still refused at login: say so rather than "no answer".
      if (refused && err instanceof ConnectError && err.code === Code.Unavailable) throw refused;
      const mapped = this.mapError(err);
      if (mapped instanceof ConnectError && mapped.code === Code.Unauthenticated) this.authFailure = mapped;
      throw mapped;
    } finally {
      untrack?.();
    }
  }

  /** Cancels `query` when `signal` aborts (client gone, deadline); returns the undo. */
  private track(signal: AbortSignal, query: Query<unknown>): () => void {
    let queries = this.inflight.get(signal);
    if (!queries) {
      const set = new Set<Query<unknown>>();
      queries = set;
      this.inflight.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const q of set) q.cancel?.();
      });
    }
    queries.add(query);
    return () => queries.delete(query);
  }

  /** Maps any failure to a Connect error naming the namespace and backend. */
  mapError(err: unknown): unknown {
    return this.missingPassword(err, this.where) ?? mapPgError(err, this.where, this.scrub);
  }

  /**
   * The server asked for a password we do not have (postgres.js then sends an empty one, refused with
   * 28P01): the config lacks its secret, which INVALID_ARGUMENT says, rather than a wrong secret.
   */
  private missingPassword(err: unknown, where: string): ConnectError | undefined {
    if (this.password !== undefined || sqlState(err) !== '28P01') return undefined;
    const user =
      this.config.user ?? (this.config.url ? decodeURIComponent(new URL(this.config.url).username) : '');
    return invalidArgument(
      `${where}: the server requires a password for user "${user || 'postgres'}" but no password is configured (set password, e.g. password: \${env:PGPASSWORD})`,
    );
  }

  /** A start-up failure as a clear error naming namespace, backend and target (password redacted). */
  startError(err: unknown): Error {
    const at = `${this.where} at ${this.target}`;
    // Failures inside run() are already mapped; add where we tried to connect.
    if (err instanceof ConnectError)
      return new ConnectError(
        err.rawMessage.replace(this.where, at),
        err.code,
        undefined,
        undefined,
        err.cause,
      );
    const mapped = this.missingPassword(err, at) ?? mapPgError(err, at, this.scrub);
    if (mapped instanceof ConnectError) return mapped;
    const message = this.scrub(err instanceof Error ? err.message : String(err));
    return new Error(`cannot prepare PostgreSQL for ${at}: ${message}`);
  }

  /** Runs `job` every `ms` on an unref'd timer, never overlapping itself; failures are logged once per streak. */
  every(ms: number, what: string, job: () => Promise<unknown>): void {
    let running = false;
    let failing = false;
    const timer = setInterval(async () => {
      if (running || this.closed) return;
      running = true;
      try {
        await job();
        if (failing) this.logger.info(`postgres: ${what} works again`);
        failing = false;
      } catch (err) {
        if (!failing)
          this.logger.warn({ err: this.scrub(String(err)) }, `postgres: ${what} failed; retrying`);
        failing = true;
      } finally {
        running = false;
      }
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Stops background jobs and closes the pool, waiting briefly for running queries. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.pool.end({ timeout: 5 });
  }
}
