import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { hookStreams, type StreamHook } from '@prism/sdk';

/** A request handler both HTTP/1.1 and HTTP/2 servers accept. */
export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** The client preface every HTTP/2 prior-knowledge connection starts with. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * One TCP port for both protocols: HTTP/2 cleartext (gRPC, Connect over h2) and HTTP/1.1 (browsers:
 * Connect and gRPC-web). The first bytes of a connection decide: the HTTP/2 preface goes to the h2c
 * server, anything else to the HTTP/1.1 server. Browsers never speak h2c, so this needs no TLS.
 */
export class DualProtocolListener {
  readonly tcp: net.Server;
  readonly h2: http2.Http2Server;
  readonly h1: http.Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly h1Sockets = new Set<net.Socket>();

  /**
   * @param streamHook sees every HTTP/2 stream first and returns true when it answered it itself; the
   *   others get the compat request/response objects `handler` expects (they cost per request, so the
   *   unary fast path works on the raw stream).
   */
  constructor(handler: DualHandler, streamHook?: StreamHook) {
    this.h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, handler);
    if (streamHook) hookStreams(this.h2, streamHook);
    this.h1 = http.createServer({ keepAliveTimeout: 5000 }, handler);
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    this.tcp = net.createServer({ noDelay: true }, (socket) => this.route(socket));
  }

  private route(socket: net.Socket): void {
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const n = Math.min(head.length, H2_PREFACE.length);
      const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && head.length < H2_PREFACE.length) return; // need more bytes to decide
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      if (isH2) {
        // The HTTP/2 session drains the bytes already buffered in the socket, then reads its handle.
        this.h2.emit('connection', socket);
      } else {
        this.h1Sockets.add(socket);
        socket.once('close', () => this.h1Sockets.delete(socket));
        this.h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
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
    this.h1.closeIdleConnections();
  }

  /** Destroys whatever is still open. */
  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.h1Sockets) socket.destroy();
  }
}
