import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';

/** Connection-level limits of the client port (`proxy.connections`). */
export interface ConnectionLimits {
  /** Open client connections, all clients together. */
  readonly max: number;
  /** Open client connections from one IP address. */
  readonly maxPerIp: number;
  /** HTTP/2 streams one connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxStreamsPerConnection: number;
  /** From accept to the protocol being known (plaintext) or the TLS handshake done. */
  readonly firstBytesTimeoutMs: number;
  /** An HTTP/1.1 request's headers, from the connection (or the previous response) on. */
  readonly headersTimeoutMs: number;
  /** Longest pause while a request body is arriving. */
  readonly bodyIdleTimeoutMs: number;
  /** An idle HTTP/1.1 keep-alive connection. */
  readonly keepAliveTimeoutMs: number;
  /** An HTTP/2 connection with no open stream; it then gets a GOAWAY. */
  readonly idleSessionTimeoutMs: number;
}

/** Defaults of {@link ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  max: 10_000,
  maxPerIp: 1_000,
  maxStreamsPerConnection: 1_000,
  firstBytesTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  bodyIdleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleSessionTimeoutMs: 300_000,
});

/**
 * Bounds what a client can hold open: connections in total and per IP, and the time a lagging
 * connection may take at each step (first bytes, headers, body, idle keep-alive, idle HTTP/2 session).
 * Node's own HTTP timeouts do not run for sockets handed over by the protocol-sniffing listener, so the
 * guard keeps its own timers; each one, when it fires, closes only that connection (or stream).
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perIp = new Map<string, number>();
  /** Connections refused or closed by a limit, by reason (for logs and tests). */
  readonly refused = new Map<string, number>();

  constructor(readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS) {}

  /** Counts a new connection; destroys it and returns false when a connection limit is reached. */
  admit(socket: net.Socket): boolean {
    const ip = socket.remoteAddress ?? '';
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.open >= this.limits.max) return this.refuse(socket, 'max_connections');
    if (fromIp >= this.limits.maxPerIp) return this.refuse(socket, 'max_connections_per_ip');
    this.open++;
    this.perIp.set(ip, fromIp + 1);
    socket.once('close', () => {
      this.open--;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n) this.perIp.set(ip, n);
      else this.perIp.delete(ip);
    });
    return true;
  }

  /** Closes `socket` unless `cancel()` is called within the first-bytes timeout. */
  firstBytes(socket: net.Socket): () => void {
    const timer = setTimeout(
      () => this.close(socket, 'first_bytes_timeout'),
      this.limits.firstBytesTimeoutMs,
    );
    return () => clearTimeout(timer);
  }

  /**
   * HTTP/1.1: each request's headers must arrive within the headers timeout of the connection or of the
   * previous response; a request body may not pause longer than the body timeout.
   */
  watchHttp1(socket: net.Socket): void {
    const state = socket as net.Socket & { [HEADERS_TIMER]?: NodeJS.Timeout };
    state[HEADERS_TIMER] = setTimeout(
      () => this.close(socket, 'headers_timeout'),
      this.limits.headersTimeoutMs,
    );
    socket.once('close', () => clearTimeout(state[HEADERS_TIMER]));
  }

  /** Hooks the HTTP/1.1 side of `server` (its 'request' events) into {@link watchHttp1}'s timers. */
  guardHttp1Requests(server: http.Server | http2.Http2SecureServer): void {
    server.prependListener(
      'request',
      (
        req: http.IncomingMessage | http2.Http2ServerRequest,
        res: http.ServerResponse | http2.Http2ServerResponse,
      ) => {
        if (req.httpVersionMajor !== 1) return;
        const socket = req.socket as net.Socket & { [HEADERS_TIMER]?: NodeJS.Timeout };
        clearTimeout(socket[HEADERS_TIMER]);
        if (!req.complete) {
          socket.setTimeout(this.limits.bodyIdleTimeoutMs);
          req.once('end', () => socket.setTimeout(0));
        }
        res.once('finish', () => {
          if (socket.destroyed) return;
          socket[HEADERS_TIMER] = setTimeout(
            () => this.close(socket, 'headers_timeout'),
            this.limits.headersTimeoutMs,
          );
        });
      },
    );
  }

  /** HTTP/2: a session without open streams gets a GOAWAY after the idle timeout; a stalled request body is cancelled. */
  guardHttp2(server: http2.Http2Server | http2.Http2SecureServer): void {
    server.on('session', (session: http2.ServerHttp2Session) => {
      let streams = 0;
      let idle: NodeJS.Timeout | undefined;
      const arm = () => {
        idle = setTimeout(() => {
          this.count('idle_session_timeout');
          session.close();
        }, this.limits.idleSessionTimeoutMs);
      };
      arm();
      session.on('stream', (stream: http2.ServerHttp2Stream) => {
        if (streams++ === 0) clearTimeout(idle);
        stream.once('close', () => {
          if (--streams === 0 && !session.closed && !session.destroyed) arm();
        });
        if (stream.readableEnded) return;
        stream.setTimeout(this.limits.bodyIdleTimeoutMs, () => {
          this.count('body_idle_timeout');
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.once('end', () => stream.setTimeout(0));
      });
      session.once('close', () => clearTimeout(idle));
    });
  }

  private refuse(socket: net.Socket, reason: string): false {
    this.close(socket, reason);
    return false;
  }

  private close(socket: net.Socket, reason: string): void {
    this.count(reason);
    socket.destroy();
  }

  private count(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }
}

const HEADERS_TIMER = Symbol('headers timer');
