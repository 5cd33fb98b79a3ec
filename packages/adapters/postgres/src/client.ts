import { Code, ConnectError, invalidArgument, type Logger, unavailable } from '@prism/sdk';
import postgres from 'postgres';
import { clientOptions, describeTarget, type PostgresConfig, passwordOf } from './config.js';
import { mapPgError, sqlState } from './errors.js';

/** The postgres.js client type used throughout the adapter. */
export type Sql = postgres.Sql;

/** A postgres.js query (lazy: it runs when awaited). */
type Query<T> = PromiseLike<T> & { cancel?(): unknown };

/**
 * One namespace's connection pool to PostgreSQL, shared by every interface the adapter serves: runs calls
 * with a client-side deadline and cancellation, maps errors to Connect codes without secrets, and runs
 * background jobs (e.g. the TTL sweeper) on unref'd timers.
 */
export class PgClient {
  readonly sql: Sql;
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
    const options = clientOptions(config, `prism:${namespace}`.slice(0, 63));
    this.sql = config.url ? postgres(config.url, options) : postgres(options);
  }

  /** Removes the password from a message, wherever a driver or server might have echoed it. */
  readonly scrub = (s: string): string =>
    this.password && this.password.length > 0 ? s.split(this.password).join('***') : s;

  /**
   * Runs a query, failing with UNAVAILABLE if it has no answer within `query_timeout_ms` and canceling
   * it when the caller goes away.
   */
  async run<T>(query: Query<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw unavailable(`${this.where} is closed`);
    if (signal?.aborted) throw new ConnectError(`${this.where}: call canceled`, Code.Canceled);
    let timer: NodeJS.Timeout | undefined;
    const untrack = signal ? this.track(signal, query) : undefined;
    const refused = this.authFailure;
    const deadline = new Promise<never>((_, reject) => {
      const ms = refused
        ? Math.min(this.config.connect_timeout_ms, this.config.query_timeout_ms)
        : this.config.query_timeout_ms;
      timer = setTimeout(() => {
        query.cancel?.();
        reject(refused ?? unavailable(`${this.where} did not answer within ${ms} ms (query_timeout_ms)`));
      }, ms);
    });
    try {
      const result = await Promise.race([query, deadline]);
      this.authFailure = undefined;
      return result;
    } catch (err) {
      // A query we canceled because the caller left fails with query_canceled: report the real reason.
      if (signal?.aborted) throw new ConnectError(`${this.where}: call canceled`, Code.Canceled);
      const mapped = this.mapError(err);
      if (mapped instanceof ConnectError && mapped.code === Code.Unauthenticated) this.authFailure = mapped;
      throw mapped;
    } finally {
      clearTimeout(timer);
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
    await this.sql.end({ timeout: 5 });
  }
}
