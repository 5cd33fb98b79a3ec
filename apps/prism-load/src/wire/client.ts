import http from 'node:http';
import http2 from 'node:http2';
import { EnvelopeReader } from './envelope.js';
import {
  grpcStreamStatus,
  type Protocol,
  type RawResponse,
  type RpcResult,
  requestBody,
  requestHeaders,
  streamEnvelope,
  unaryResult,
} from './protocol.js';

/** Which HTTP version carries the calls. gRPC needs HTTP/2; browsers use HTTP/1.1 for Connect and gRPC-web. */
export type HttpVersion = '1.1' | '2';

/**
 * A minimal RPC client speaking the wire protocols directly on `node:http2` / `node:http`, so the load
 * generator costs as little CPU per call as possible and drives a bare HTTP/2 server and the proxy alike.
 */
export interface RpcClient {
  /** One unary call; `path` is `/package.Service/Method`, `message` the encoded request. */
  unary(path: string, message: Uint8Array): Promise<RpcResult>;
  /** A server-streaming call; resolves with the final status (undefined = OK) when the stream ends. */
  serverStream(
    path: string,
    message: Uint8Array,
    onMessage: (data: Buffer) => void,
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Creates a client for a base URL (`http://host:port`). */
export function createRpcClient(
  baseUrl: string,
  protocol: Protocol,
  opts: { httpVersion?: HttpVersion; connections?: number } = {},
): RpcClient {
  const version = opts.httpVersion ?? '2';
  if (version === '1.1') {
    if (protocol === 'grpc') throw new Error('gRPC needs HTTP/2: use --http 2 with --protocol grpc');
    return new H1Client(baseUrl, protocol, opts.connections ?? 64);
  }
  return new H2Client(baseUrl, protocol, opts.connections ?? 1);
}

type Http2Headers = http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;

class H2Client implements RpcClient {
  private readonly sessions: (http2.ClientHttp2Session | undefined)[];
  private next = 0;
  private readonly unaryHeaders = new Map<string, http2.OutgoingHttpHeaders>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly protocol: Protocol,
    connections: number,
  ) {
    this.sessions = new Array(Math.max(1, connections)).fill(undefined);
  }

  /** Round-robins over the connections, (re)connecting any that closed. */
  private session(): http2.ClientHttp2Session {
    if (this.closed) throw Object.assign(new Error('client closed'), { code: 'CANCELLED' });
    const i = this.next++ % this.sessions.length;
    let s = this.sessions[i];
    if (!s || s.closed || s.destroyed) {
      s = http2.connect(this.url, { settings: { enablePush: false, initialWindowSize: 1 << 20 } });
      const own = s;
      // A large connection window so many concurrent responses never wait for WINDOW_UPDATE.
      own.once('connect', () => own.setLocalWindowSize(8 << 20));
      own.on('error', () => {});
      own.once('close', () => {
        if (this.sessions[i] === own) this.sessions[i] = undefined;
      });
      this.sessions[i] = s;
    }
    return s;
  }

  private headersFor(path: string, streaming: boolean): http2.OutgoingHttpHeaders {
    const cacheKey = streaming ? `s${path}` : path;
    let h = this.unaryHeaders.get(cacheKey);
    if (!h) {
      h = { ':method': 'POST', ':path': path, ...requestHeaders(this.protocol, streaming) };
      this.unaryHeaders.set(cacheKey, h);
    }
    return h;
  }

  unary(path: string, message: Uint8Array): Promise<RpcResult> {
    return new Promise((resolve, reject) => {
      const req = this.session().request(this.headersFor(path, false));
      let headers: Http2Headers = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      let chunk: Buffer | undefined;
      let chunks: Buffer[] | undefined;
      req.on('response', (h) => {
        headers = h;
      });
      req.on('data', (c: Buffer) => {
        if (!chunk) chunk = c;
        else if (chunks) chunks.push(c);
        else chunks = [chunk, c];
      });
      req.on('trailers', (t) => {
        trailers = t;
      });
      req.on('end', () => {
        const body = chunks ? Buffer.concat(chunks) : (chunk ?? EMPTY);
        const raw: RawResponse = { status: Number(headers[':status'] ?? 0), headers, body, trailers };
        try {
          resolve(unaryResult(this.protocol, raw));
        } catch (err) {
          reject(err);
        }
      });
      req.on('error', reject);
      req.end(requestBody(this.protocol, message, false));
    });
  }

  serverStream(
    path: string,
    message: Uint8Array,
    onMessage: (data: Buffer) => void,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const req = this.session().request(this.headersFor(path, true));
      const reader = new EnvelopeReader();
      let headers: Http2Headers = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      let endCode: string | undefined | null = null;
      const onAbort = () => req.close(http2.constants.NGHTTP2_CANCEL);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (h) => {
        headers = h;
      });
      req.on('data', (c: Buffer) => {
        for (const env of reader.push(c)) {
          const item = streamEnvelope(this.protocol, env);
          if (item.kind === 'data') onMessage(item.data);
          else endCode = item.code;
        }
      });
      req.on('trailers', (t) => {
        trailers = t;
      });
      req.on('close', () => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return resolve(undefined);
        const status = Number(headers[':status'] ?? 0);
        if (status !== 200) return resolve(`HTTP_${status}`);
        if (endCode !== null) return resolve(endCode);
        resolve(this.protocol === 'connect' ? 'PROTOCOL' : grpcStreamStatus(headers, trailers));
      });
      req.on('error', (err) => {
        if (!signal?.aborted) reject(err);
      });
      req.end(requestBody(this.protocol, message, true));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s || s.closed || s.destroyed) return resolve();
            s.close(() => resolve());
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
  }
}

const EMPTY = Buffer.alloc(0);

class H1Client implements RpcClient {
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly headers: Record<string, string>;

  constructor(
    baseUrl: string,
    private readonly protocol: Protocol,
    connections: number,
  ) {
    this.target = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, noDelay: true });
    this.headers = requestHeaders(protocol, false);
  }

  unary(path: string, message: Uint8Array): Promise<RpcResult> {
    const body = requestBody(this.protocol, message, false);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: this.target.hostname,
          port: this.target.port,
          method: 'POST',
          path,
          headers: { ...this.headers, 'content-length': String(body.byteLength) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw: RawResponse = {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
              trailers: undefined,
            };
            try {
              resolve(unaryResult(this.protocol, raw));
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  serverStream(): Promise<string | undefined> {
    return Promise.reject(new Error('server streams are only driven over HTTP/2 (use --http 2)'));
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
