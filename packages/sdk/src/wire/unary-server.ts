import type http from 'node:http';
import type http2 from 'node:http2';
import type { Readable } from 'node:stream';
import { create, type DescMethod, fromBinary, isMessage, toBinary } from '@bufbuild/protobuf';
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

// The unary hot path, shared by the proxy's client port and the plugin host. Binary-protobuf unary calls
// (gRPC, gRPC-web and Connect; uncompressed) are decoded, handed to the pipeline and answered right on the
// HTTP/2 stream or HTTP/1.1 response: no compat objects, no per-call async iterables or header objects.
// Everything else (streams, JSON, compression, GET) is left to connect-node, which the caller mounts too.

type Protocol = 'grpc' | 'grpcweb' | 'connect';
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
};

const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' } as const;
const WEB_HEADERS = { ':status': 200, 'content-type': 'application/grpc-web+proto' } as const;
const CONNECT_HEADERS = { ':status': 200, 'content-type': 'application/proto' } as const;
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
  const routes = new Map<string, Route>();
  for (const definition of interfaces)
    for (const method of definition.service.methods as readonly DescMethod[])
      if (method.methodKind === 'unary')
        routes.set(`/${definition.service.typeName}/${method.name}`, { definition, method });

  /** The protocol when this call is taken here, else undefined. */
  const accept = (h: Headers1, rawStream: boolean): Protocol | undefined => {
    const protocol = PROTOCOL_OF[h['content-type'] ?? ''];
    if (protocol === undefined) return undefined;
    if (protocol === 'connect')
      return (h['content-encoding'] ?? 'identity') === 'identity' ? protocol : undefined;
    if ((h['grpc-encoding'] ?? 'identity') !== 'identity') return undefined;
    return protocol === 'grpc' && !rawStream ? undefined : protocol;
  };

  /** The absolute deadline the headers ask for, or an INVALID_ARGUMENT for a malformed one. */
  const deadlineOf = (h: Headers1, protocol: Protocol): number | ConnectError | undefined => {
    const raw = protocol === 'connect' ? h['connect-timeout-ms'] : h['grpc-timeout'];
    if (raw === undefined) return undefined;
    const { timeoutMs, error } =
      protocol === 'connect'
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
    tooBig: boolean,
    reply: Reply,
  ): void => {
    if (tooBig) {
      reply.error(tooLarge(undefined, readMaxBytes));
      return;
    }
    const deadline = deadlineOf(headers, protocol);
    if (deadline instanceof ConnectError) {
      reply.error(deadline);
      return;
    }
    let request: { namespace?: string };
    try {
      request = fromBinary(route.method.input, unwrap(body, protocol, readMaxBytes)) as {
        namespace?: string;
      };
    } catch (err) {
      reply.error(
        err instanceof ConnectError
          ? err
          : new ConnectError(
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
        bytes = toBinary(output, isMessage(out, output) ? out : create(output, out as never));
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
      readBody(stream, readMaxBytes, (body, tooBig) =>
        serve(route, protocol, headers, peer, cert, body, tooBig, h2Reply(stream, protocol)),
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
      readBody(req, readMaxBytes, (body, tooBig) =>
        serve(route, protocol, req.headers, peer, cert, body, tooBig, compatReply(res, protocol)),
      );
      return true;
    },
  };
}

/** Collects a request body (bounded by readMaxBytes) and hands it to `done`. */
function readBody(
  source: Readable,
  readMaxBytes: number,
  done: (body: Buffer, tooBig: boolean) => void,
): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  source.on('data', (c: Buffer) => {
    size += c.length;
    if (size > readMaxBytes + 5) return;
    if (!first) first = c;
    else if (chunks) chunks.push(c);
    else chunks = [first, c];
  });
  source.once('end', () => done(chunks ? Buffer.concat(chunks) : (first ?? EMPTY), size > readMaxBytes + 5));
}

function tooLarge(size: number | undefined, readMaxBytes: number): ConnectError {
  return new ConnectError(
    `message size${size === undefined ? '' : ` ${size}`} is larger than configured readMaxBytes ${readMaxBytes}`,
    Code.ResourceExhausted,
  );
}

/** The message bytes of a request body: the body itself for Connect, the single envelope otherwise. */
function unwrap(body: Buffer, protocol: Protocol, readMaxBytes: number): Uint8Array {
  if (protocol === 'connect') {
    if (body.length > readMaxBytes) throw tooLarge(body.length, readMaxBytes);
    return body;
  }
  if (body.length < 5) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  const len = body.readUInt32BE(1);
  if (body[0] !== 0)
    throw new ConnectError(
      'protocol error: the message is flagged compressed but the call sets no grpc-encoding',
      Code.InvalidArgument,
    );
  if (len > readMaxBytes) throw tooLarge(len, readMaxBytes);
  if (body.length !== 5 + len)
    throw new ConnectError('protocol error: expected exactly one message', Code.InvalidArgument);
  return body.subarray(5);
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
        stream.respond(CONNECT_HEADERS);
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
      else send(200, { 'content-type': CONNECT_HEADERS['content-type'] }, bytes);
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
