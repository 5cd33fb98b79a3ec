import type http from 'node:http';
import type http2 from 'node:http2';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  create,
  type DescMethod,
  fromBinary,
  fromJsonString,
  isMessage,
  toBinary,
  toJsonString,
} from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
// connect-es marks these helpers internal: the workspace pins @connectrpc/connect to one exact version,
// and wire.parity.test.ts compares every answer of this module with connect-node's own.
import {
  codeToHttpStatus,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
} from '@connectrpc/connect/protocol-connect';
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { Call } from '../call.js';
import type { InterfaceDefinition } from '../interface.js';
import { isPromise } from '../pipeline.js';
import { type ClientCertificate, clientCertificateOf, socketOf } from './client-certificate.js';

// The unary hot path, shared by the proxy's client port and the plugin host. Unary calls (gRPC, gRPC-web,
// Connect with binary or JSON messages; identity, gzip or br requests) are decoded, handed to the pipeline
// and answered right on the HTTP/2 stream or HTTP/1.1 response (uncompressed): no compat objects, no
// per-call async iterables or header objects. Every malformed body is INVALID_ARGUMENT here (connect-node
// says INTERNAL for some). Everything else (streams, GET, other encodings) is left to connect-node.

/** `connectjson` is the Connect protocol with the JSON codec; it answers like `connect` otherwise. */
type Protocol = 'grpc' | 'grpcweb' | 'connect' | 'connectjson';
type Headers1 = http.IncomingHttpHeaders | http2.IncomingHttpHeaders;

interface Route {
  readonly definition: InterfaceDefinition;
  readonly method: DescMethod;
}

/** Request content types served here; the rest goes to connect-node. */
const PROTOCOL_OF: Readonly<Record<string, Protocol>> = {
  'application/grpc': 'grpc',
  'application/grpc+proto': 'grpc',
  'application/grpc-web': 'grpcweb',
  'application/grpc-web+proto': 'grpcweb',
  'application/proto': 'connect',
  'application/json': 'connectjson',
};

const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' } as const;
const WEB_HEADERS = { ':status': 200, 'content-type': 'application/grpc-web+proto' } as const;
const CONNECT_HEADERS = { ':status': 200, 'content-type': 'application/proto' } as const;
const CONNECT_JSON_HEADERS = { ':status': 200, 'content-type': 'application/json' } as const;
// As connect-es reads and writes JSON (unknown fields ignored), but invalid UTF-8 is an error, not U+FFFD.
const JSON_OPTIONS = { ignoreUnknownFields: true } as const;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const GRPC_OK_TRAILERS = { 'grpc-status': '0' } as const;
const WEB_OK_TRAILER = frame(Buffer.from('grpc-status: 0\r\n'), 0x80);
const EMPTY = Buffer.alloc(0);
const NO_MAX_TIMEOUT = Number.MAX_SAFE_INTEGER;

function frame(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = flags;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** Where a call's answer goes: an HTTP/2 stream or an HTTP/1.1 response. */
interface Reply {
  ok(message: Uint8Array): void;
  error(err: ConnectError): void;
  onClose(fn: () => void): void;
}

/** Runs one decoded call (a pipeline's `unary`): the response message or a promise of it. */
export type UnaryHandler = (call: Call) => unknown;

/** Options for {@link createUnaryServer}. */
export interface UnaryServerOptions {
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED. */
  readonly readMaxBytes: number;
  /** Serve calls carrying an `Origin` header on raw HTTP/2 streams too (default false: CORS is elsewhere). */
  readonly allowOriginOnStreams?: boolean;
  /**
   * Request bytes all calls together may hold (read, or waiting for their answer); a call that would
   * go over gets RESOURCE_EXHAUSTED and its body is not kept. Unlimited when absent.
   */
  readonly maxInflightBytes?: number;
  /**
   * Called when the request bytes held drop to zero after having reached `largeBytes` (default 64 MiB):
   * a moment to give the memory back (see the proxy's memory.ts).
   */
  readonly onLargeDrain?: () => void;
}

/** The two entry points: raw HTTP/2 streams and HTTP/1.1 (or compat) requests. */
export interface UnaryServer {
  /** Serves an HTTP/2 stream when it is a call taken here; false leaves it to connect-node. */
  stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean;
  /** Same for an HTTP/1.1 (or HTTP/2 compat) request; gRPC is served on raw streams only. */
  request(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): boolean;
}

/**
 * Serves the unary methods of `interfaces` on the wire: decodes the request, reads the deadline
 * (`grpc-timeout`, `connect-timeout-ms`), builds a {@link Call} and answers with what `handler` returns.
 * A client that goes away aborts the call.
 */
export function createUnaryServer(
  interfaces: readonly InterfaceDefinition[],
  handler: UnaryHandler,
  opts: UnaryServerOptions,
): UnaryServer {
  const { readMaxBytes } = opts;
  const budget =
    opts.maxInflightBytes === undefined
      ? undefined
      : new ByteBudget(opts.maxInflightBytes, opts.onLargeDrain);
  const routes = new Map<string, Route>();
  for (const definition of interfaces)
    for (const method of definition.service.methods as readonly DescMethod[])
      if (method.methodKind === 'unary')
        routes.set(`/${definition.service.typeName}/${method.name}`, { definition, method });

  /** The protocol when this call is taken here, else undefined. */
  const accept = (h: Headers1, rawStream: boolean): Protocol | undefined => {
    const protocol = PROTOCOL_OF[h['content-type'] ?? ''];
    if (protocol === undefined) return undefined;
    if (encodingOf(h, protocol) === undefined) return undefined;
    return protocol === 'grpc' && !rawStream ? undefined : protocol;
  };

  /** The absolute deadline the headers ask for, or an INVALID_ARGUMENT for a malformed one. */
  const deadlineOf = (h: Headers1, protocol: Protocol): number | ConnectError | undefined => {
    const connect = protocol === 'connect' || protocol === 'connectjson';
    const raw = connect ? h['connect-timeout-ms'] : h['grpc-timeout'];
    if (raw === undefined) return undefined;
    const { timeoutMs, error } = connect
      ? parseConnectTimeout(String(raw), NO_MAX_TIMEOUT)
      : parseGrpcTimeout(String(raw), NO_MAX_TIMEOUT);
    if (error) return error;
    return timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  };

  /** Decodes, runs and answers one call. */
  const serve = (
    route: Route,
    protocol: Protocol,
    headers: Headers1,
    peer: string | undefined,
    clientCert: ClientCertificate | undefined,
    body: Buffer,
    refused: ConnectError | undefined,
    reply: Reply,
  ): void => {
    if (refused) {
      reply.error(refused);
      return;
    }
    const deadline = deadlineOf(headers, protocol);
    if (deadline instanceof ConnectError) {
      reply.error(deadline);
      return;
    }
    let message: Uint8Array;
    let compressed: boolean;
    try {
      ({ message, compressed } = unwrap(body, protocol, readMaxBytes));
    } catch (err) {
      reply.error(err as ConnectError);
      return;
    }
    const encoding = compressed ? (encodingOf(headers, protocol) as Encoding) : 'identity';
    if (compressed && encoding === 'identity' && protocol !== 'connect' && protocol !== 'connectjson') {
      reply.error(
        new ConnectError(
          'protocol error: the message is flagged compressed but the call sets no grpc-encoding',
          Code.InvalidArgument,
        ),
      );
      return;
    }
    const json = protocol === 'connectjson';
    if (encoding === 'identity') run(route, json, headers, peer, clientCert, message, deadline, reply);
    else
      decompress(encoding, message, readMaxBytes).then(
        (plain) => run(route, json, headers, peer, clientCert, plain, deadline, reply),
        (err: ConnectError) => reply.error(err),
      );
  };

  /** Decodes the request message and runs the call. */
  const run = (
    route: Route,
    json: boolean,
    headers: Headers1,
    peer: string | undefined,
    clientCert: ClientCertificate | undefined,
    message: Uint8Array,
    deadline: number | undefined,
    reply: Reply,
  ): void => {
    let request: { namespace?: string };
    try {
      request = (
        json
          ? fromJsonString(route.method.input, UTF8.decode(message), JSON_OPTIONS)
          : fromBinary(route.method.input, message)
      ) as { namespace?: string };
    } catch (err) {
      reply.error(
        new ConnectError(
          `cannot decode ${route.method.input.typeName}: ${(err as Error).message}`,
          Code.InvalidArgument,
        ),
      );
      return;
    }
    const call = new Call({
      namespace: request.namespace ?? '',
      definition: route.definition,
      method: route.method,
      request,
      deadline,
      headers,
      peer,
      clientCert,
    });
    reply.onClose(() => {
      if (!call.done) call.abort(call.goneReason());
    });
    const output = route.method.output;
    const answer = (out: unknown) => {
      let bytes: Uint8Array;
      try {
        const msg = isMessage(out, output) ? out : create(output, out as never);
        bytes = json ? Buffer.from(toJsonString(output, msg)) : toBinary(output, msg);
      } catch (err) {
        reply.error(ConnectError.from(err, Code.Internal));
        return;
      }
      reply.ok(bytes);
    };
    const fail = (err: unknown) => reply.error(ConnectError.from(err, Code.Internal));
    let result: unknown;
    try {
      result = handler(call);
    } catch (err) {
      fail(err);
      return;
    }
    if (isPromise(result)) result.then(answer, fail);
    else answer(result);
  };

  return {
    stream(stream, headers) {
      if (headers[':method'] !== 'POST') return false;
      const route = routes.get(headers[':path'] ?? '');
      if (!route) return false;
      if (headers.origin !== undefined && !opts.allowOriginOnStreams) return false;
      const protocol = accept(headers, true);
      if (!protocol) return false;
      // A client resetting the stream surfaces as 'error'; the call's 'close' handling covers it.
      stream.on('error', () => {});
      const socket = stream.session?.socket;
      const peer = socket?.remoteAddress;
      const cert = clientCertificateOf(socket);
      readBody(stream, readMaxBytes, budget, protocol, headers, (body, refused) =>
        serve(route, protocol, headers, peer, cert, body, refused, h2Reply(stream, protocol)),
      );
      return true;
    },
    request(req, res) {
      if (req.method !== 'POST') return false;
      const route = routes.get(req.url ?? '');
      if (!route) return false;
      const protocol = accept(req.headers, false);
      if (!protocol) return false;
      const peer = req.socket?.remoteAddress;
      const cert = clientCertificateOf(socketOf(req));
      readBody(req, readMaxBytes, budget, protocol, req.headers, (body, refused) =>
        serve(route, protocol, req.headers, peer, cert, body, refused, compatReply(res, protocol)),
      );
      return true;
    },
  };
}

/** Bytes held by calls in flight, against a limit. */
class ByteBudget {
  private held = 0;
  private peak = 0;

  constructor(
    readonly max: number,
    private readonly onLargeDrain?: () => void,
    private readonly largeBytes = 64 * 1024 * 1024,
  ) {}

  get used(): number {
    return this.held;
  }

  /** Takes `n` bytes; false (nothing taken) when they do not fit. */
  take(n: number): boolean {
    if (this.held + n > this.max) return false;
    this.held += n;
    if (this.held > this.peak) this.peak = this.held;
    return true;
  }

  give(n: number): void {
    this.held -= n;
    if (this.held === 0 && n > 0) {
      if (this.peak >= this.largeBytes) this.onLargeDrain?.();
      this.peak = 0;
    }
  }
}

/**
 * Collects a request body (bounded by readMaxBytes, and by the budget shared by every call) and hands it
 * to `done`, or the error the call gets instead. Bytes taken from the budget return when the stream closes.
 * When the size is known up front (an envelope's length prefix, or content-length), the body is copied
 * into one buffer as it arrives, so a large request never exists twice (chunks, then their concatenation).
 */
function readBody(
  source: Readable,
  readMaxBytes: number,
  budget: ByteBudget | undefined,
  protocol: Protocol,
  headers: Headers1,
  done: (body: Buffer, refused: ConnectError | undefined) => void,
): void {
  let chunks: Buffer[] = [];
  let target: Buffer | undefined;
  let offset = 0;
  let size = 0;
  let held = 0;
  let overBudget = false;
  let sized = false;
  const release = () => {
    budget?.give(held);
    held = 0;
  };
  if (budget) source.once('close', release);
  source.on('data', (c: Buffer) => {
    size += c.length;
    if (size > readMaxBytes + 5 || overBudget) return;
    if (budget) {
      if (!budget.take(c.length)) {
        overBudget = true;
        release();
        chunks = [];
        target = undefined;
        return;
      }
      held += c.length;
    }
    if (target) {
      if (offset + c.length <= target.length) {
        target.set(c, offset);
        offset += c.length;
        return;
      }
      chunks = [target.subarray(0, offset)]; // more than announced: malformed, collect as it comes
      target = undefined;
    }
    chunks.push(c);
    // Decide once, at the second chunk (a small body comes in one and is never copied).
    if (chunks.length === 2 && !sized) {
      sized = true;
      const head = chunks[0] as Buffer;
      const total = bodySize(protocol, headers, head.length >= 5 ? head : Buffer.concat(chunks));
      if (total !== undefined && total >= size && total <= readMaxBytes + 5) {
        target = Buffer.allocUnsafe(total);
        for (const chunk of chunks) {
          target.set(chunk, offset);
          offset += chunk.length;
        }
        chunks = [];
      }
    }
  });
  source.once('end', () => {
    if (size > readMaxBytes + 5) done(EMPTY, tooLarge(undefined, readMaxBytes));
    else if (overBudget && budget)
      done(
        EMPTY,
        new ConnectError(
          `the proxy is holding its limit of ${budget.max} request bytes (proxy.connections.max_inflight_request_bytes); retry shortly`,
          Code.ResourceExhausted,
          { 'retry-after': '1' },
        ),
      );
    else if (target) done(offset === target.length ? target : target.subarray(0, offset), undefined);
    else
      done(
        chunks.length === 1 ? (chunks[0] as Buffer) : chunks.length ? Buffer.concat(chunks) : EMPTY,
        undefined,
      );
  });
}

/** The whole body's size, when its first bytes (or headers) tell: an envelope's prefix, or content-length. */
function bodySize(protocol: Protocol, headers: Headers1, head: Buffer): number | undefined {
  if (protocol === 'grpc' || protocol === 'grpcweb')
    return head.length >= 5 ? 5 + head.readUInt32BE(1) : undefined;
  const length = Number(headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : undefined;
}

function tooLarge(size: number | undefined, readMaxBytes: number): ConnectError {
  return new ConnectError(
    `message size${size === undefined ? '' : ` ${size}`} is larger than configured readMaxBytes ${readMaxBytes}`,
    Code.ResourceExhausted,
  );
}

type Encoding = 'identity' | 'gzip' | 'br';
const ENCODINGS: ReadonlySet<string> = new Set(['identity', 'gzip', 'br']);

/** The request's content encoding when it is one served here (identity, gzip, br), else undefined. */
function encodingOf(h: Headers1, protocol: Protocol): Encoding | undefined {
  const raw =
    protocol === 'connect' || protocol === 'connectjson' ? h['content-encoding'] : h['grpc-encoding'];
  if (raw === undefined) return 'identity';
  return typeof raw === 'string' && ENCODINGS.has(raw) ? (raw as Encoding) : undefined;
}

/**
 * The message bytes of a request body: the body itself for Connect, the single envelope otherwise;
 * `compressed` when they are in the call's encoding (a Connect body with a content-encoding, or an
 * envelope flagged compressed).
 */
function unwrap(
  body: Buffer,
  protocol: Protocol,
  readMaxBytes: number,
): { message: Uint8Array; compressed: boolean } {
  if (protocol === 'connect' || protocol === 'connectjson') {
    if (body.length > readMaxBytes) throw tooLarge(body.length, readMaxBytes);
    return { message: body, compressed: true };
  }
  if (body.length < 5) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  const len = body.readUInt32BE(1);
  if (len > readMaxBytes) throw tooLarge(len, readMaxBytes);
  if (body.length !== 5 + len)
    throw new ConnectError('protocol error: expected exactly one message', Code.InvalidArgument);
  if (body[0] !== 0 && body[0] !== 1)
    throw new ConnectError(`protocol error: invalid envelope flags ${body[0]}`, Code.InvalidArgument);
  return { message: body.subarray(5), compressed: body[0] === 1 };
}

/** Inflates a request (bounded by readMaxBytes, so a small bomb cannot take the memory). */
function decompress(encoding: 'gzip' | 'br', data: Uint8Array, readMaxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => {
      if (!err) resolve(out);
      else if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        reject(tooLarge(undefined, readMaxBytes));
      else
        reject(
          new ConnectError(`cannot decompress the ${encoding} request: ${err.message}`, Code.InvalidArgument),
        );
    };
    const opts = { maxOutputLength: readMaxBytes };
    if (encoding === 'gzip') zlib.gunzip(data, opts, done);
    else zlib.brotliDecompress(data, opts, done);
  });
}

function headerObject(h: globalThis.Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** grpc-status / grpc-message / details and the error's metadata, as header fields. */
function grpcStatus(err: ConnectError): Record<string, string> {
  const h = new Headers();
  setTrailerStatus(h, err); // writes the error's metadata too
  return headerObject(h);
}

/** A gRPC-web trailer frame carrying an error status. */
function webErrorFrame(err: ConnectError): Buffer {
  const text = Object.entries(grpcStatus(err))
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return frame(Buffer.from(text), 0x80);
}

function connectError(err: ConnectError): {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
} {
  const body = Buffer.from(errorToJsonBytes(err, {}));
  const headers = {
    ...headerObject(err.metadata),
    'content-type': 'application/json',
    'content-length': body.length,
  };
  return { status: codeToHttpStatus(err.code), headers, body };
}

function h2Reply(stream: http2.ServerHttp2Stream, protocol: Protocol): Reply {
  const gone = () => stream.destroyed || stream.closed;
  return {
    onClose: (fn) => stream.once('close', fn),
    ok(bytes) {
      if (gone()) return;
      if (protocol === 'grpc') {
        stream.respond(GRPC_HEADERS, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers(GRPC_OK_TRAILERS));
        stream.end(frame(bytes));
      } else if (protocol === 'grpcweb') {
        stream.respond(WEB_HEADERS);
        stream.end(Buffer.concat([frame(bytes), WEB_OK_TRAILER]));
      } else {
        stream.respond(protocol === 'connect' ? CONNECT_HEADERS : CONNECT_JSON_HEADERS);
        stream.end(bytes);
      }
    },
    error(err) {
      if (gone()) return;
      if (protocol === 'grpc') {
        // Trailers-only response: the status travels in the one HEADERS frame.
        stream.respond({ ...GRPC_HEADERS, ...grpcStatus(err) }, { endStream: true });
      } else if (protocol === 'grpcweb') {
        stream.respond(WEB_HEADERS);
        stream.end(webErrorFrame(err));
      } else {
        const e = connectError(err);
        stream.respond({ ...e.headers, ':status': e.status });
        stream.end(e.body);
      }
    },
  };
}

/** Replies through a response object (gRPC-web and Connect; gRPC needs trailers, so raw streams). */
function compatReply(res: http.ServerResponse | http2.Http2ServerResponse, protocol: Protocol): Reply {
  const send = (status: number, headers: Record<string, string | number>, body: Uint8Array) => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...headers, 'content-length': body.byteLength });
    res.end(body);
  };
  return {
    onClose: (fn) => res.once('close', fn),
    ok(bytes) {
      if (protocol === 'grpcweb')
        send(
          200,
          { 'content-type': WEB_HEADERS['content-type'] },
          Buffer.concat([frame(bytes), WEB_OK_TRAILER]),
        );
      else
        send(
          200,
          {
            'content-type': (protocol === 'connect' ? CONNECT_HEADERS : CONNECT_JSON_HEADERS)['content-type'],
          },
          bytes,
        );
    },
    error(err) {
      if (protocol === 'grpcweb')
        send(200, { 'content-type': WEB_HEADERS['content-type'] }, webErrorFrame(err));
      else {
        const e = connectError(err);
        send(e.status, e.headers, e.body);
      }
    },
  };
}
