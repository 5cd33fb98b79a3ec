import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { hookStreams, type StreamHook } from '@prism/sdk';
import { ConnectionGuard, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection-guard.js';

/** A request handler both HTTP/1.1 and HTTP/2 servers accept. */
export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Certificates of a TLS client port (PEM contents). */
export interface ListenerTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA bundle that client certificates are verified against (mutual TLS). */
  readonly ca?: Buffer | undefined;
  /** Refuse a handshake without a valid client certificate. */
  readonly requireClientCert: boolean;
}

/** The client preface every HTTP/2 prior-knowledge connection starts with. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * One TCP port for both protocols: HTTP/2 (gRPC, Connect over h2) and HTTP/1.1 (browsers: Connect and
 * gRPC-web). In plaintext the first bytes of a connection decide: the HTTP/2 preface goes to the h2c
 * server, anything else to the HTTP/1.1 server (browsers never speak h2c). With TLS, ALPN decides (h2,
 * http/1.1) and one secure server takes both.
 */
export class DualProtocolListener {
  readonly tcp: net.Server;
  readonly h2: http2.Http2Server | http2.Http2SecureServer;
  readonly h1: http.Server | undefined;
  /** Connection counts and the timers that close lagging connections. */
  readonly guard: ConnectionGuard;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly h1Sockets = new Set<net.Socket>();

  /**
   * @param streamHook sees every HTTP/2 stream first and returns true when it answered it itself; the
   *   others get the compat request/response objects `handler` expects (they cost per request, so the
   *   unary fast path works on the raw stream).
   */
  constructor(
    handler: DualHandler,
    streamHook?: StreamHook,
    tlsOptions?: ListenerTls,
    limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ) {
    const guard = new ConnectionGuard(limits);
    this.guard = guard;
    const settings = { maxConcurrentStreams: limits.maxStreamsPerConnection };
    if (tlsOptions) {
      const secure = http2.createSecureServer(
        {
          ...secureContext(tlsOptions),
          settings,
          allowHTTP1: true,
          ALPNProtocols: ['h2', 'http/1.1'],
          handshakeTimeout: limits.firstBytesTimeoutMs,
        },
        handler,
      );
      secure.on('connection', (socket: net.Socket) => guard.admit(socket));
      secure.on('secureConnection', (socket: tls.TLSSocket) => {
        socket.setNoDelay(true);
        if (socket.alpnProtocol === 'h2') return;
        this.h1Sockets.add(socket);
        socket.once('close', () => this.h1Sockets.delete(socket));
        guard.watchHttp1(socket);
      });
      guard.guardHttp1Requests(secure);
      // A failed handshake (bad or missing client certificate, plaintext on the TLS port) only ends that connection.
      secure.on('tlsClientError', (_err, socket) => socket.destroy());
      this.h2 = secure;
      this.h1 = undefined;
      this.tcp = secure;
    } else {
      this.h2 = http2.createServer({ settings }, handler);
      this.h1 = http.createServer({ keepAliveTimeout: limits.keepAliveTimeoutMs }, handler);
      guard.guardHttp1Requests(this.h1);
      this.tcp = net.createServer({ noDelay: true }, (socket) => {
        if (guard.admit(socket)) this.route(socket);
      });
    }
    if (streamHook) hookStreams(this.h2, streamHook);
    guard.guardHttp2(this.h2);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
  }

  /** True when the port speaks TLS. */
  get secure(): boolean {
    return this.h1 === undefined;
  }

  /**
   * Swaps the certificates for new handshakes; open connections keep theirs, so nothing in flight is
   * dropped (SIGHUP after a certificate renewal).
   */
  reloadTls(tlsOptions: ListenerTls): void {
    if (!this.secure) throw new Error('the client port was started without TLS');
    (this.h2 as http2.Http2SecureServer).setSecureContext(secureContext(tlsOptions));
  }

  private route(socket: net.Socket): void {
    let head: Buffer = Buffer.alloc(0);
    const decided = this.guard.firstBytes(socket);
    const onData = (chunk: Buffer) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const n = Math.min(head.length, H2_PREFACE.length);
      const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && head.length < H2_PREFACE.length) return; // need more bytes to decide
      decided();
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (isH2) {
        // The HTTP/2 session drains the bytes already buffered in the socket, then reads its handle.
        this.h2.emit('connection', socket);
      } else {
        this.h1Sockets.add(socket);
        socket.once('close', () => this.h1Sockets.delete(socket));
        this.guard.watchHttp1(socket);
        this.h1?.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', decided);
  }

  /** Binds the port; resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections and asks open ones to finish (GOAWAY for h2, close-when-idle for h1). */
  stopAccepting(): void {
    this.tcp.close();
    for (const session of this.sessions) session.close();
    this.h1?.closeIdleConnections();
  }

  /** Connections still open (HTTP/2 sessions and HTTP/1.1 sockets). */
  get openConnections(): number {
    return this.sessions.size + this.h1Sockets.size;
  }

  /** Destroys whatever is still open. */
  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.h1Sockets) socket.destroy();
  }
}

function secureContext(t: ListenerTls): tls.SecureContextOptions & tls.TlsOptions {
  return {
    cert: t.cert,
    key: t.key,
    ...(t.ca && { ca: t.ca }),
    // Ask for a certificate whenever a client CA is configured; the auth layer decides what an absent
    // or untrusted one means unless the handshake itself must refuse it.
    requestCert: t.ca !== undefined,
    rejectUnauthorized: t.requireClientCert,
  };
}
