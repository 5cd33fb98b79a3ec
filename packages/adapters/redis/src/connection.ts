import { createHash } from 'node:crypto';
import {
  BackendTimeouts,
  backoffDelay,
  type CallContext,
  ConnectError,
  codeName,
  endBackendSpan,
  failedPrecondition,
  type HealthReport,
  healthy,
  internal,
  invalidArgument,
  isConnectionError,
  type Logger,
  type PluginMetrics,
  permissionDenied,
  redactUrl,
  resourceExhausted,
  startBackendSpan,
  unauthenticated,
  unavailable,
  unhealthy,
} from '@prism/sdk';
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  ErrorReply,
  RESP_TYPES,
  ReconnectStrategyError,
  type RedisArgument,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from 'redis';
import type { RedisConfig } from './config.js';

/** A reply from Redis with bulk strings as Buffers (binary-safe values). */
export type Reply = Buffer | string | number | bigint | null | Reply[] | undefined;

/** Replies whose bulk strings are Buffers; everything else keeps node-redis' default mapping. */
const BINARY = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
const BINARY_OPTIONS = { typeMapping: BINARY };

// Redis error prefixes that mean "not able to serve right now" rather than "bad request".
const TRANSIENT_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;
/** The server refused the login: WRONGPASS (wrong user/password, user disabled), NOAUTH (none sent). */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH)\b/;

/** A Lua script with its SHA1, run with EVALSHA and loaded on demand. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/** Declares a Lua script (computes its SHA1 once). */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

type Client = ReturnType<typeof createClient>;

/**
 * One node-redis client for one namespace: fail-fast while disconnected (no offline queue), reconnect
 * with capped backoff in the background, every command bounded by min(client deadline,
 * command_timeout_ms) — also once sent, which node-redis' own timeout does not cover — with the client
 * replaced when Redis stops answering (a frozen server, a half-open socket), and error mapping to
 * Connect codes.
 */
export class RedisConnection {
  readonly where: string;
  private client: Client;
  /** Bounds commands on the shared client; a timeout there recycles it. */
  private readonly bounds: BackendTimeouts;
  /** Bounds operations of dedicated clients (followers, group readers, subscriber): their owner handles expiry. */
  private readonly sideBounds: BackendTimeouts;
  /** When the shared client was last replaced because Redis did not answer (ms epoch). */
  private recycledAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly url: string;
  private started = false;
  private closed = false;
  private lastError: string | undefined;
  /** Why Redis last refused to authenticate us (cleared once a connection is ready again). */
  private authFailure: string | undefined;

  private readonly labels: { namespace: string };

  constructor(
    private readonly config: RedisConfig,
    namespace: string,
    private readonly logger: Logger,
    private readonly metrics: PluginMetrics,
  ) {
    this.labels = { namespace };
    this.url = redactUrl(config.url);
    this.where = `redis backend of namespace "${namespace}" (${this.url})`;
    const timeouts = {
      where: this.where,
      timeoutMs: config.command_timeout_ms,
      setting: 'command_timeout_ms',
    };
    this.bounds = new BackendTimeouts({ ...timeouts, onTimeout: () => this.recycle() });
    this.sideBounds = new BackendTimeouts(timeouts);
    this.client = this.makeClient();
  }

  private makeClient(): Client {
    const config = this.config;
    const tls = config.tls;
    const tlsOptions =
      tls === true || (tls === undefined && config.url.startsWith('rediss://'))
        ? { tls: true as const }
        : tls && typeof tls === 'object'
          ? {
              tls: true as const,
              ca: tls.ca,
              cert: tls.cert,
              key: tls.key,
              servername: tls.servername,
              rejectUnauthorized: tls.reject_unauthorized,
            }
          : {};
    const client: Client = createClient({
      url: config.url,
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      ...(config.database !== undefined ? { database: config.database } : {}),
      // Calls while disconnected fail at once (UNAVAILABLE) instead of queueing until Redis returns.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: config.connect_timeout_ms,
        ...tlsOptions,
        // Before start() succeeded, give up at once so a wrong password or host fails the start clearly;
        // afterwards, retry forever with capped exponential backoff.
        reconnectStrategy: (retries: number, cause: Error) => {
          if (this.closed) return false;
          this.noteAuthFailure(cause);
          // A fresh Error (not `cause`): node-redis checks `instanceof Error`, which fails across realms.
          if (!this.started) return new Error(cause?.message ?? 'connection failed');
          return backoffDelay(retries, { minDelayMs: 50, maxDelayMs: config.reconnect_max_delay_ms });
        },
      },
    });
    client.on('error', (err: Error) => {
      // node-redis emits every failed reconnect attempt; log each distinct problem once.
      if (client !== this.client) return; // a replaced client, being torn down
      if (err.message !== this.lastError) {
        this.lastError = err.message;
        this.logger.warn({ err: err.message }, `${this.where}: connection problem`);
      }
    });
    client.on('ready', () => {
      if (client !== this.client) return;
      if (this.lastError !== undefined) this.logger.info(`${this.where}: connection restored`);
      this.lastError = undefined;
      this.authFailure = undefined;
      this.metrics.gauge('redis_connected', 1, this.labels);
    });
    client.on('end', () => {
      if (client === this.client) this.metrics.gauge('redis_connected', 0, this.labels);
    });
    client.on('reconnecting', () => {
      if (client !== this.client) return;
      this.metrics.gauge('redis_connected', 0, this.labels);
      this.metrics.increment('redis_reconnects_total', this.labels);
    });
    return client;
  }

  /**
   * Replaces the shared client after a command got no answer within command_timeout_ms: the socket may be
   * wedged for good (a half-open connection answers nothing, ever), and every later command would queue
   * behind the lost one. At most once per command timeout; commands on the old client were already
   * answered UNAVAILABLE. Until the new client is ready, calls fail fast (no offline queue).
   */
  private recycle(): void {
    if (this.closed || !this.started) return;
    const now = Date.now();
    if (now - this.recycledAt < this.config.command_timeout_ms) return;
    this.recycledAt = now;
    this.logger.warn(
      `${this.where}: no answer within ${this.config.command_timeout_ms} ms (command_timeout_ms); reconnecting`,
    );
    this.replaceClient();
  }

  private replaceClient(): void {
    const old = this.client;
    const fresh = this.makeClient();
    this.client = fresh;
    this.metrics.gauge('redis_connected', 0, this.labels);
    this.metrics.increment('redis_reconnects_total', this.labels);
    if (old.isOpen) old.destroy();
    // Failures are emitted as 'error' events (logged) and retried by the reconnect strategy.
    fresh.connect().catch(() => {});
    // A handshake to a server that accepts connections but never answers has no timeout of its own.
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (!this.closed && this.client === fresh && !fresh.isReady) this.replaceClient();
    }, this.config.connect_timeout_ms);
    this.watchdog.unref();
  }

  /**
   * Bounds an operation of a dedicated client (see {@link duplicate}) by min(client deadline,
   * command_timeout_ms + `extraMs`); its owner destroys the client when it expires.
   */
  bound<T>(work: Promise<T>, ctx?: Pick<CallContext, 'deadline'>, extraMs = 0): Promise<T> {
    return this.sideBounds.run(work, ctx, extraMs ? { extraMs } : undefined).catch((err: unknown) => {
      throw this.mapError(err);
    });
  }

  /** Connects a dedicated client, bounded by connect_timeout_ms + command_timeout_ms (its handshake). */
  connectDedicated(client: Client): Promise<unknown> {
    return this.bound(client.connect(), undefined, this.config.connect_timeout_ms);
  }

  /** Connects (with the connect timeout) and checks the server answers; throws a clear UNAVAILABLE otherwise. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionTimeoutError()), this.config.connect_timeout_ms + 1000);
    });
    try {
      await Promise.race([this.client.connect(), timeout]);
      await this.call(['PING']);
      this.started = true;
    } catch (err) {
      this.closed = true;
      this.client.destroy();
      this.noteAuthFailure(err);
      if (this.authFailure) throw this.authError();
      const reason = err instanceof Error ? err.message : String(err);
      throw unavailable(`${this.where}: cannot connect: ${this.redactSecrets(reason)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command, bounded by min(`ctx.deadline`, command_timeout_ms): UNAVAILABLE at the command
   * timeout (the client is then recycled), DEADLINE_EXCEEDED at the caller's deadline. `binary` returns
   * bulk strings as Buffers (for values).
   */
  async call(
    args: readonly RedisArgument[],
    binary = false,
    ctx?: Pick<CallContext, 'deadline'>,
  ): Promise<Reply> {
    const t0 = performance.now();
    const command = String(args[0]);
    const span = startBackendSpan(`redis ${command}`, {
      'db.system.name': 'redis',
      'db.operation.name': command,
    });
    try {
      const reply = (await this.bounds.run(
        this.client.sendCommand(args, binary ? BINARY_OPTIONS : undefined),
        ctx,
      )) as Reply;
      this.metrics.observe('redis_command_seconds', (performance.now() - t0) / 1000, {
        ...this.labels,
        command,
      });
      endBackendSpan(span);
      return reply;
    } catch (err) {
      endBackendSpan(span, err);
      const mapped = this.mapError(err);
      // NOSCRIPT is the expected first answer after a Redis restart (eval() reloads the script).
      if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT')))
        this.metrics.increment('redis_command_errors_total', {
          ...this.labels,
          command,
          code: codeName(mapped.code),
        });
      throw mapped;
    }
  }

  /** Runs a Lua script atomically (EVALSHA, loading it on first use). */
  async eval(
    s: Script,
    keys: readonly RedisArgument[],
    args: readonly RedisArgument[],
    binary = false,
    ctx?: Pick<CallContext, 'deadline'>,
  ): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.call(['EVALSHA', s.sha, ...tail], binary, ctx);
    } catch (err) {
      if (!(err instanceof Error && /NOSCRIPT/.test(err.message))) throw err;
      return this.call(['EVAL', s.source, ...tail], binary, ctx);
    }
  }

  /**
   * A new, unconnected client with the same settings (reconnect, TLS, credentials), for subscriber and
   * blocking-read use that must not share the command connection. The caller connects and closes it.
   */
  duplicate(): Client {
    return this.client.duplicate();
  }

  /** PING with the command timeout; unhealthy while disconnected. */
  async health(): Promise<HealthReport> {
    if (!this.client.isReady) return unhealthy(`${this.where}: not connected (reconnecting)`);
    const t0 = performance.now();
    try {
      await this.call(['PING']);
      return healthy({ latency_ms: (performance.now() - t0).toFixed(1) });
    } catch (err) {
      return unhealthy(err instanceof Error ? err.message : String(err));
    }
  }

  /** Closes the connection; pending calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.watchdog);
    if (this.client.isReady) {
      try {
        await this.client.close();
        return;
      } catch {
        // fall through to destroy
      }
    }
    if (this.client.isOpen) this.client.destroy();
  }

  /** Remembers a WRONGPASS/NOAUTH answer to the handshake (node-redis then keeps reconnecting). */
  private noteAuthFailure(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (AUTH_REPLY.test(message)) this.authFailure = this.redactSecrets(message);
  }

  /** The user the connection logs in as, for messages (never the password). */
  private get user(): string {
    if (this.config.username) return this.config.username;
    try {
      return decodeURIComponent(new URL(this.config.url).username) || 'default';
    } catch {
      return 'default';
    }
  }

  /**
   * UNAUTHENTICATED when Redis refused the configured credentials; INVALID_ARGUMENT when it requires
   * credentials and none are configured (NOAUTH without a password): the config, not the secret, is wrong.
   */
  private authError(): ConnectError {
    const reason = this.authFailure ?? 'authentication failed';
    if (reason.startsWith('NOAUTH') && !this.config.password && !safePassword(this.config.url))
      return invalidArgument(
        `${this.where} requires authentication but no password is configured (set password, or user:password in the url): ${reason}`,
      );
    return unauthenticated(`${this.where} rejected the credentials of user "${this.user}": ${reason}`);
  }

  /** Maps node-redis errors to Connect codes with an actionable message that names the backend. */
  mapError(err: unknown): ConnectError {
    // Already mapped (e.g. a command timeout or deadline from the bound).
    if (err instanceof ConnectError) return err;
    const message = this.redactSecrets(err instanceof Error ? err.message : String(err));
    // Offline because every reconnect is refused at login: say so rather than "unavailable".
    if (this.authFailure && !this.client.isReady) return this.authError();
    if (err instanceof ErrorReply && AUTH_REPLY.test(err.message)) {
      this.noteAuthFailure(err);
      return this.authError();
    }
    if (err instanceof ErrorReply && err.message.startsWith('NOPERM'))
      return permissionDenied(`${this.where}: user "${this.user}" may not do this: ${message}`);
    if (
      err instanceof ClientOfflineError ||
      err instanceof ClientClosedError ||
      err instanceof SocketClosedUnexpectedlyError ||
      err instanceof ConnectionTimeoutError ||
      err instanceof SocketTimeoutError ||
      err instanceof ReconnectStrategyError ||
      isConnectionError(err)
    )
      return unavailable(`${this.where} is unavailable: ${message}`);
    if (err instanceof TimeoutError)
      return unavailable(`${this.where} did not answer within ${this.config.command_timeout_ms} ms`);
    if (err instanceof ErrorReply) {
      if (TRANSIENT_REPLIES.test(err.message)) return unavailable(`${this.where} cannot serve: ${message}`);
      if (err.message.startsWith('OOM'))
        return resourceExhausted(`${this.where} is out of memory: ${message}`);
      if (err.message.startsWith('WRONGTYPE'))
        return failedPrecondition(
          `${this.where}: the key holds a non-string Redis type (written outside Prism?)`,
        );
    }
    return internal(`${this.where} failed: ${message}`);
  }

  /** Removes the configured password from a message, wherever a library may have echoed it. */
  private redactSecrets(message: string): string {
    const secrets = [this.config.password, safePassword(this.config.url)].filter((s): s is string => !!s);
    return secrets.reduce((m, s) => m.split(s).join('***'), message.split(this.config.url).join(this.url));
  }
}

function safePassword(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
