import type http from 'node:http';
import type http2 from 'node:http2';
import type { Readable } from 'node:stream';
import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  isMessage,
  toBinary,
} from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import type { CallContext, InterfaceDefinition } from '@prism/sdk';
import type { NamespaceTable } from './namespaces.js';
import { resolve } from './router.js';

type Method = (request: { namespace: string }, ctx: CallContext) => unknown;
type Protocol = 'grpc' | 'grpcweb' | 'connect';
type Headers1 = http.IncomingHttpHeaders | http2.IncomingHttpHeaders;

interface Route {
  readonly iface: InterfaceDefinition;
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly name: string;
}

/** Request content types the fast path serves (binary protobuf, no compression); the rest goes to connect-node. */
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

function frame(message: Uint8Array, flags = 0): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = flags;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/**
 * A call context whose AbortSignal is only created when the implementation asks for it: most unary
 * calls never look, and creating signals (and the DOMException an abort carries) per call was a top
 * item of the proxy's CPU profile.
 */
class LazyContext implements CallContext {
  private controller: AbortController | undefined;
  done = false;
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }
  /** The client went away before the answer: tell an implementation that is listening. */
  abandon(): void {
    if (!this.done) this.controller?.abort(new ConnectError('the client cancelled the call', Code.Canceled));
  }
}

/** Where a call's answer goes: an HTTP/2 stream or an HTTP/1.1 response. */
interface Reply {
  ok(message: Uint8Array): void;
  error(err: ConnectError): void;
  onClose(fn: () => void): void;
}

/** The fast path's two entry points: raw HTTP/2 streams and HTTP/1.1 requests. */
export interface UnaryFastPath {
  /** Serves an HTTP/2 stream when it is a call the fast path takes; false leaves it to the general path. */
  stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean;
  /** Same for an HTTP/1.1 (or compat) request. */
  request(
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): boolean;
}

/**
 * The unary hot path. Binary-protobuf unary calls of the mounted interfaces (gRPC, gRPC-web and Connect,
 * uncompressed, without a deadline header, not from a browser) are decoded, routed and answered here:
 * on HTTP/2 straight on the stream, without the compat request/response objects or connect-node's
 * generic pipeline. Everything else (streams, JSON, compression, deadlines, CORS, health, reflection)
 * is left to connect-node. PRISM_FAST_PATH=0 turns it off (comparisons, escape hatch).
 */
export function createUnaryFastPath(
  table: NamespaceTable,
  interfaces: readonly InterfaceDefinition[],
  readMaxBytes: number,
): UnaryFastPath {
  if (process.env.PRISM_FAST_PATH === '0') return { stream: () => false, request: () => false };
  const routes = new Map<string, Route>();
  for (const iface of interfaces)
    for (const method of iface.service.methods as readonly DescMethod[])
      if (method.methodKind === 'unary')
        routes.set(`/${iface.service.typeName}/${method.name}`, {
          iface,
          input: method.input,
          output: method.output,
          name: method.localName,
        });

  /** The protocol when the fast path takes this call, else undefined. */
  const accept = (h: Headers1, http2: boolean): Protocol | undefined => {
    const protocol = PROTOCOL_OF[h['content-type'] ?? ''];
    if (protocol === undefined || h.origin !== undefined) return undefined;
    if (protocol === 'connect')
      return (h['content-encoding'] ?? 'identity') === 'identity' && h['connect-timeout-ms'] === undefined
        ? protocol
        : undefined;
    if ((h['grpc-encoding'] ?? 'identity') !== 'identity' || h['grpc-timeout'] !== undefined)
      return undefined;
    return protocol === 'grpc' && !http2 ? undefined : protocol;
  };

  /** Decodes, routes and runs one call, answering through `reply`. */
  const call = (route: Route, protocol: Protocol, body: Buffer, tooBig: boolean, reply: Reply): void => {
    if (tooBig) {
      reply.error(
        new ConnectError(
          `message size is larger than configured readMaxBytes ${readMaxBytes}`,
          Code.ResourceExhausted,
        ),
      );
      return;
    }
    let input: { namespace: string };
    try {
      input = fromBinary(route.input, unwrap(body, protocol, readMaxBytes)) as unknown as {
        namespace: string;
      };
    } catch (err) {
      reply.error(asError(err, Code.InvalidArgument));
      return;
    }
    const ctx = new LazyContext();
    reply.onClose(() => ctx.abandon());
    const answer = (out: unknown) => {
      ctx.done = true;
      let bytes: Uint8Array;
      try {
        bytes = toBinary(
          route.output,
          isMessage(out, route.output) ? out : create(route.output, out as never),
        );
      } catch (err) {
        return reply.error(asError(err));
      }
      reply.ok(bytes);
    };
    const fail = (err: unknown) => {
      ctx.done = true;
      reply.error(asError(err));
    };
    let result: unknown;
    try {
      result = (resolve(table, route.iface, input.namespace)[route.name] as unknown as Method)(input, ctx);
    } catch (err) {
      fail(err);
      return;
    }
    if (result instanceof Promise) result.then(answer, fail);
    else answer(result);
  };

  /** Collects a request body (bounded by readMaxBytes) and hands it to `done`. */
  const readBody = (source: Readable, done: (body: Buffer, tooBig: boolean) => void): void => {
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
    source.once('end', () =>
      done(chunks ? Buffer.concat(chunks) : (first ?? EMPTY), size > readMaxBytes + 5),
    );
  };

  return {
    stream(stream, headers) {
      if (headers[':method'] !== 'POST') return false;
      const route = routes.get(headers[':path'] ?? '');
      if (!route) return false;
      const protocol = accept(headers, true);
      if (!protocol) return false;
      // A client resetting the stream surfaces as 'error'; the call's 'close' handling covers it.
      stream.on('error', () => {});
      readBody(stream, (body, tooBig) => call(route, protocol, body, tooBig, h2Reply(stream, protocol)));
      return true;
    },
    request(req, res) {
      if (req.method !== 'POST') return false;
      const route = routes.get(req.url ?? '');
      if (!route) return false;
      const protocol = accept(req.headers, req.httpVersionMajor === 2);
      if (!protocol) return false;
      readBody(req, (body, tooBig) =>
        call(route, protocol, body, tooBig, h1Reply(res as http.ServerResponse, protocol)),
      );
      return true;
    },
  };
}

/** The message bytes of a request body: the body itself for Connect, the single envelope otherwise. */
function unwrap(body: Buffer, protocol: Protocol, readMaxBytes: number): Uint8Array {
  if (protocol === 'connect') {
    if (body.length > readMaxBytes)
      throw new ConnectError(
        `message size ${body.length} is larger than configured readMaxBytes ${readMaxBytes}`,
        Code.ResourceExhausted,
      );
    return body;
  }
  if (body.length < 5) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  const len = body.readUInt32BE(1);
  if (body[0] !== 0)
    throw new ConnectError('protocol error: compressed message without grpc-encoding', Code.Internal);
  if (len > readMaxBytes)
    throw new ConnectError(
      `message size ${len} is larger than configured readMaxBytes ${readMaxBytes}`,
      Code.ResourceExhausted,
    );
  if (body.length !== 5 + len)
    throw new ConnectError('protocol error: expected exactly one message', Code.InvalidArgument);
  return body.subarray(5);
}

function asError(err: unknown, fallback = Code.Internal): ConnectError {
  return err instanceof ConnectError ? err : ConnectError.from(err, fallback);
}

function headerObject(h: globalThis.Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** grpc-status / grpc-message (/ details) of an error, as header fields. */
function grpcStatus(err: ConnectError): Record<string, string> {
  const h = new Headers();
  setTrailerStatus(h, err);
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

function h1Reply(res: http.ServerResponse, protocol: Protocol): Reply {
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
