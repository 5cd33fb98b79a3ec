import {
  BackendTimeouts,
  type CallContext,
  ConnectError,
  invalidArgument,
  type Limits,
  type Logger,
  unauthenticated,
  unavailable,
} from '@prism/sdk';
import {
  type ConnectionOptions,
  type ConsumerConfig,
  connect,
  ErrorCode,
  Events,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type NatsConnection,
  NatsError,
  type StreamConfig,
} from 'nats';
import type { NatsConfig } from './config.js';

// NATS client error codes that mean "the server cannot be reached right now".
const UNAVAILABLE = new Set<string>([
  ErrorCode.ConnectionRefused,
  ErrorCode.ConnectionClosed,
  ErrorCode.ConnectionDraining,
  ErrorCode.ConnectionTimeout,
  ErrorCode.Disconnect,
  ErrorCode.Timeout,
  ErrorCode.NoResponders,
]);

// The server refused the configured credentials: the backend cannot be used until the config is fixed.
const AUTH = new Set<string>([
  ErrorCode.AuthorizationViolation,
  ErrorCode.BadAuthentication,
  ErrorCode.BadCreds,
]);

/** JetStream API error code of a NatsError (e.g. 10059 stream not found), if any. */
export function apiErrorCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

/** JetStream "stream not found" / "consumer not found". */
export const isStreamNotFound = (err: unknown) => apiErrorCode(err) === 10059;
export const isConsumerNotFound = (err: unknown) => apiErrorCode(err) === 10014;
/** JetStream "no message found" (direct get of a missing sequence or subject). */
export const isNoMessage = (err: unknown) => apiErrorCode(err) === 10037;

/**
 * One NATS connection per adapter instance: connects, tracks whether the server is reachable (so calls
 * fail fast with UNAVAILABLE instead of buffering while the client reconnects) and maps client errors.
 */
export class NatsBackend {
  private nc?: NatsConnection;
  private jsmP?: Promise<JetStreamManager>;
  private up = false;
  /** The server's last refusal of our login (e.g. after a password rotation); cleared on reconnect. */
  private authFailure: string | undefined;
  private readonly ensured = new Set<string>();
  readonly where: string;
  /** Bounds every operation by min(client deadline, request_timeout_ms); a wedge forces a reconnect. */
  private readonly bounds: BackendTimeouts;
  /** When a reconnect was last forced because the server stopped answering (ms epoch). */
  private recycledAt = 0;

  constructor(
    readonly config: NatsConfig,
    private readonly logger: Logger,
    namespace: string,
    /** The namespace's limits: named in the error when the server's max_payload is the lower one. */
    private readonly limits?: Limits,
  ) {
    this.where = `nats backend of namespace "${namespace}"`;
    this.bounds = new BackendTimeouts({
      where: this.where,
      timeoutMs: config.request_timeout_ms,
      setting: 'request_timeout_ms',
      onTimeout: ({ wedged }) => {
        if (wedged) this.recycle();
      },
    });
  }

  /**
   * Forces a reconnect after operations got no answer within request_timeout_ms while nothing else was
   * answered either: the connection may be wedged (a half-open socket), which the client's own PINGs only
   * notice after pingInterval × maxPingOut. While it reconnects, calls fail fast with UNAVAILABLE.
   */
  private recycle(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    const now = Date.now();
    if (now - this.recycledAt < this.config.request_timeout_ms) return;
    this.recycledAt = now;
    this.logger.warn(
      `${this.where}: no answer within ${this.config.request_timeout_ms} ms (request_timeout_ms); reconnecting`,
    );
    this.up = false;
    this.jsmP = undefined;
    nc.reconnect().catch(() => {});
  }

  /** Connects; rejects with UNAVAILABLE when no server answers within connect_timeout_ms. */
  async start(): Promise<void> {
    const c = this.config;
    const opts: ConnectionOptions = {
      servers: c.servers,
      name: 'prism',
      timeout: c.connect_timeout_ms,
      reconnect: c.reconnect.enabled,
      maxReconnectAttempts: c.reconnect.max_attempts,
      reconnectTimeWait: c.reconnect.wait_ms,
      pingInterval: 10_000,
      maxPingOut: 2,
      ...(c.user ? { user: c.user, pass: c.password } : {}),
      ...(c.token ? { token: c.token } : {}),
      ...(c.tls
        ? {
            tls: {
              handshakeFirst: c.tls.handshake_first,
              ...(c.tls.ca_file ? { caFile: c.tls.ca_file } : {}),
              ...(c.tls.cert_file ? { certFile: c.tls.cert_file } : {}),
              ...(c.tls.key_file ? { keyFile: c.tls.key_file } : {}),
            },
          }
        : {}),
    };
    try {
      this.nc = await connect(opts);
    } catch (err) {
      throw this.map(err);
    }
    this.up = true;
    const max = this.nc.info?.max_payload;
    if (max && this.limits && this.limits.maxValueBytes > max)
      this.logger.warn(
        `${this.where}: the server's max_payload (${max} bytes) is below the namespace's max_value_bytes (${this.limits.maxValueBytes}); larger messages are rejected with INVALID_ARGUMENT`,
      );
    void this.watch(this.nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === Events.Error && AUTH.has(String(s.data))) {
        this.authFailure = String(s.data);
        this.logger.warn({ code: s.data }, `${this.where}: the server refused the credentials`);
      } else if (s.type === Events.Disconnect) {
        this.up = false;
        this.logger.warn({ server: s.data }, 'nats disconnected');
      } else if (s.type === Events.Reconnect) {
        this.up = true;
        this.authFailure = undefined;
        // The server may have lost its JetStream state (e.g. a fresh memory store): re-check streams.
        this.ensured.clear();
        this.logger.info({ server: s.data }, 'nats reconnected');
      }
    }
  }

  /** True while connected. */
  get connected(): boolean {
    return this.up && this.nc !== undefined && !this.nc.isClosed();
  }

  /** The connection, or UNAVAILABLE at once while the server is unreachable. */
  get conn(): NatsConnection {
    // Refused at login (the server dropped us after a rotation): nothing works until a reconnect succeeds.
    if (this.nc && this.authFailure) throw this.authError(this.authFailure);
    if (!this.nc || !this.connected)
      throw unavailable(`${this.where} is unavailable: not connected to ${this.config.servers.join(', ')}`);
    return this.nc;
  }

  get js(): JetStreamClient {
    return this.conn.jetstream({ timeout: this.config.request_timeout_ms });
  }

  async jsm(): Promise<JetStreamManager> {
    const nc = this.conn;
    this.jsmP ??= nc.jetstreamManager({ timeout: this.config.request_timeout_ms }).catch((err) => {
      this.jsmP = undefined;
      throw err;
    });
    return this.jsmP;
  }

  /** Creates a stream unless this instance already did so since the last reconnect. */
  async ensureStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    if (this.ensured.has(cfg.name)) return;
    const jsm = await this.jsm();
    try {
      await jsm.streams.info(cfg.name);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      try {
        await jsm.streams.add({ num_replicas: this.config.replicas, storage: this.storage(), ...cfg });
      } catch (addErr) {
        // A concurrent creator won the race (10058: name in use with a different config is impossible
        // here since every creator uses the same config).
        if (apiErrorCode(addErr) !== 10058) throw addErr;
      }
    }
    this.ensured.add(cfg.name);
  }

  /** Creates a durable consumer unless this instance already did so since the last reconnect. */
  async ensureConsumer(
    stream: string,
    cfg: Partial<ConsumerConfig> & { durable_name: string },
  ): Promise<void> {
    const key = `${stream}/${cfg.durable_name}`;
    if (this.ensured.has(key)) return;
    const jsm = await this.jsm();
    try {
      await jsm.consumers.info(stream, cfg.durable_name);
    } catch (err) {
      if (!isConsumerNotFound(err)) throw err;
      await jsm.consumers.add(stream, cfg);
    }
    this.ensured.add(key);
  }

  /** Forgets that a stream exists (after it was deleted or found missing). */
  forget(stream: string): void {
    for (const key of this.ensured)
      if (key === stream || key.startsWith(`${stream}/`)) this.ensured.delete(key);
  }

  private storage() {
    return (this.config.storage === 'memory' ? 'memory' : 'file') as StreamConfig['storage'];
  }

  /** Maps a client error to a ConnectError (UNAVAILABLE for connectivity), or passes it through. */
  map(err: unknown): unknown {
    if (err instanceof ConnectError) return err;
    if (err instanceof NatsError && UNAVAILABLE.has(err.code))
      return unavailable(`${this.where} is unavailable: ${err.message}`);
    if (err instanceof NatsError && AUTH.has(err.code)) return this.authError(err.message);
    return err;
  }

  /**
   * A refused login: UNAUTHENTICATED naming the user (never the secret), or INVALID_ARGUMENT when the
   * server requires credentials and the config has none.
   */
  private authError(reason: string): ConnectError {
    const c = this.config;
    if (!c.user && !c.token)
      return invalidArgument(
        `${this.where}: the server requires credentials but none are configured (set user and password, or token): ${reason}`,
      );
    const who = c.user ? `user "${c.user}"` : 'the token';
    return unauthenticated(`${this.where}: the server rejected the credentials of ${who}: ${reason}`);
  }

  /**
   * Runs `fn`, bounded by min(`ctx.deadline`, request_timeout_ms + `extraMs`) — UNAVAILABLE at the request
   * timeout, DEADLINE_EXCEEDED at the caller's deadline — and maps connectivity errors to UNAVAILABLE.
   * `extraMs` is for operations that wait on the server by design (a long-poll receive, a fetch with expiry).
   */
  async call<T>(fn: () => Promise<T>, ctx?: Pick<CallContext, 'deadline'>, extraMs = 0): Promise<T> {
    try {
      return await this.bounds.run(fn(), ctx, extraMs > 0 ? { extraMs } : undefined);
    } catch (err) {
      throw this.map(err);
    }
  }

  /**
   * Throws INVALID_ARGUMENT when a message would exceed the max_payload the server announced (it counts
   * payload and headers). The namespace's max_value_bytes is checked by the pipeline before; a stock
   * nats-server allows 1 MiB, less than the default 4 MiB, and would otherwise fail the publish with
   * MAX_PAYLOAD_EXCEEDED (an INTERNAL error for what is really input that is too large for this backend).
   */
  checkMessage(payload: Uint8Array, headers?: MsgHdrs, field = 'payload'): void {
    const max = this.nc?.info?.max_payload;
    if (!max) return;
    // Room for headers the adapter adds later (a dedup id when a delayed message moves to its queue, the
    // dead-letter source), so a message accepted now can always be moved.
    const headerBytes = (headers ? headerSize(headers) : 0) + HEADER_RESERVE;
    if (payload.byteLength + headerBytes <= max) return;
    const ns = this.limits
      ? ` (the namespace's max_value_bytes, ${this.limits.maxValueBytes}, is higher than the server allows)`
      : '';
    throw invalidArgument(
      `${field} is ${payload.byteLength} bytes (${payload.byteLength + headerBytes} with the metadata and Prism headers); ` +
        `the NATS server's max_payload is ${max} bytes for payload and headers together${ns}: send at most ` +
        `${Math.max(0, max - headerBytes)} payload bytes with this metadata, raise max_payload on the server, ` +
        `or set the namespace's max_value_bytes to at most ${max}`,
    );
  }

  /** A PING round trip, bounded by request_timeout_ms (flush would otherwise wait for a reconnect). */
  async flush(ctx?: Pick<CallContext, 'deadline'>): Promise<void> {
    const nc = this.conn;
    await this.call(() => nc.flush(), ctx);
  }

  async health(): Promise<{ ok: boolean; message: string }> {
    if (!this.connected) return { ok: false, message: `not connected to ${this.config.servers.join(', ')}` };
    try {
      await this.flush();
      await (await this.jsm()).getAccountInfo();
      return { ok: true, message: `connected to ${this.nc?.getServer()}` };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * Drains and closes. A connection that is not up (reconnecting, or refused at login) is closed at once:
   * its drain would wait for a server that does not take it; a drain is bounded by request_timeout_ms.
   */
  async close(): Promise<void> {
    const nc = this.nc;
    const up = this.connected;
    this.nc = undefined;
    this.up = false;
    if (!nc || nc.isClosed()) return;
    if (!up || this.authFailure) {
      await nc.close().catch(() => {});
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.request_timeout_ms);
    });
    await Promise.race([nc.drain().catch(() => undefined), bounded]);
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close().catch(() => {});
  }
}

/** Bytes of max_payload kept free for headers the adapter adds when it moves a message. */
export const HEADER_RESERVE = 256;

/** Bytes the headers take on the wire (`NATS/1.0\r\n`, `key: value\r\n` per value, `\r\n`). */
function headerSize(h: MsgHdrs): number {
  let n = 12;
  for (const k of h.keys())
    for (const v of h.values(k)) n += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8') + 4;
  return n;
}
