import type http from 'node:http';
import type http2 from 'node:http2';
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

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;
type Method = (request: { namespace: string }, ctx: CallContext) => unknown;
type Protocol = 'grpc' | 'grpcweb' | 'connect';

interface Route {
  readonly iface: InterfaceDefinition;
  readonly method: DescMethod;
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
const GRPC_OK_TRAILERS = { 'grpc-status': '0' } as const;
const WEB_OK_TRAILER = frame(Buffer.from('grpc-status: 0\r\n'), 0x80);

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

/**
 * The unary hot path. Binary-protobuf unary calls of the mounted interfaces (gRPC, gRPC-web and Connect,
 * uncompressed, without a deadline header, not from a browser) are decoded, routed and answered here
 * directly on the HTTP/2 stream; everything else (streams, JSON, compression, deadlines, CORS, health,
 * reflection) is left to connect-node. Returns a handler that answers false for requests it leaves.
 */
export function createUnaryFastPath(
  table: NamespaceTable,
  interfaces: readonly InterfaceDefinition[],
  readMaxBytes: number,
): (req: Req, res: Res) => boolean {
  // PRISM_FAST_PATH=0 sends everything through connect-node (for comparisons and as an escape hatch).
  if (process.env.PRISM_FAST_PATH === '0') return () => false;
  const routes = new Map<string, Route>();
  for (const iface of interfaces)
    for (const method of iface.service.methods)
      if (method.methodKind === 'unary')
        routes.set(`/${iface.service.typeName}/${method.name}`, { iface, method, name: method.localName });

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const route = routes.get(req.url ?? '');
    if (!route) return false;
    const h = req.headers;
    const protocol = PROTOCOL_OF[h['content-type'] ?? ''];
    if (protocol === undefined || h.origin !== undefined) return false;
    if (protocol === 'connect') {
      if ((h['content-encoding'] ?? 'identity') !== 'identity' || h['connect-timeout-ms'] !== undefined)
        return false;
    } else if ((h['grpc-encoding'] ?? 'identity') !== 'identity' || h['grpc-timeout'] !== undefined)
      return false;
    if (protocol === 'grpc' && req.httpVersionMajor !== 2) return false;
    serve(req, res, route, protocol);
    return true;
  };

  function serve(req: Req, res: Res, route: Route, protocol: Protocol): void {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > readMaxBytes + 5) tooBig = true;
      if (tooBig) return;
      if (!first) first = c;
      else if (chunks) chunks.push(c);
      else chunks = [first, c];
    });
    req.once('end', () => {
      if (tooBig) {
        const err = new ConnectError(
          `message size is larger than configured readMaxBytes ${readMaxBytes}`,
          Code.ResourceExhausted,
        );
        return respondError(req, res, protocol, err);
      }
      const body = chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0));
      let input: { namespace: string };
      try {
        input = fromBinary(route.method.input, unwrap(body, protocol, readMaxBytes)) as unknown as {
          namespace: string;
        };
      } catch (err) {
        return respondError(req, res, protocol, asError(err, Code.InvalidArgument));
      }
      const ctx = new LazyContext();
      res.once('close', () => ctx.abandon());
      let result: unknown;
      try {
        const impl = resolve(table, route.iface, input.namespace)[route.name] as unknown as Method;
        result = impl(input, ctx);
      } catch (err) {
        ctx.done = true;
        return respondError(req, res, protocol, asError(err));
      }
      if (result instanceof Promise)
        result.then(
          (out) => {
            ctx.done = true;
            respondOk(req, res, protocol, route.method.output, out);
          },
          (err: unknown) => {
            ctx.done = true;
            respondError(req, res, protocol, asError(err));
          },
        );
      else {
        ctx.done = true;
        respondOk(req, res, protocol, route.method.output, result);
      }
    });
  }
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

function h2Stream(req: Req): http2.ServerHttp2Stream | undefined {
  return req.httpVersionMajor === 2 ? (req as http2.Http2ServerRequest).stream : undefined;
}

function respondOk(req: Req, res: Res, protocol: Protocol, schema: DescMessage, out: unknown): void {
  let bytes: Uint8Array;
  try {
    const message = isMessage(out, schema) ? out : create(schema, out as never);
    bytes = toBinary(schema, message);
  } catch (err) {
    respondError(req, res, protocol, asError(err));
    return;
  }
  const stream = h2Stream(req);
  if (stream) {
    if (stream.destroyed || stream.closed) return;
    if (protocol === 'grpc') {
      // The compat response already answers 'wantTrailers' with its own trailer set: fill that one.
      stream.respond(GRPC_HEADERS, { waitForTrailers: true });
      (res as http2.Http2ServerResponse).addTrailers(GRPC_OK_TRAILERS);
      stream.end(frame(bytes));
    } else if (protocol === 'grpcweb') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc-web+proto' });
      stream.end(Buffer.concat([frame(bytes), WEB_OK_TRAILER]));
    } else {
      stream.respond({ ':status': 200, 'content-type': 'application/proto' });
      stream.end(bytes);
    }
    return;
  }
  const r = res as http.ServerResponse;
  if (protocol === 'grpcweb') {
    const body = Buffer.concat([frame(bytes), WEB_OK_TRAILER]);
    r.writeHead(200, { 'content-type': 'application/grpc-web+proto', 'content-length': body.length });
    r.end(body);
  } else {
    r.writeHead(200, { 'content-type': 'application/proto', 'content-length': bytes.byteLength });
    r.end(bytes);
  }
}

function headerObject(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

function respondError(req: Req, res: Res, protocol: Protocol, err: ConnectError): void {
  const stream = h2Stream(req);
  if (stream && (stream.destroyed || stream.closed)) return;
  if (protocol === 'connect') {
    const body = Buffer.from(errorToJsonBytes(err, {}));
    const headers: Record<string, string | number> = {
      ...headerObject(err.metadata),
      'content-type': 'application/json',
      'content-length': body.length,
    };
    if (stream) {
      stream.respond({ ...headers, ':status': codeToHttpStatus(err.code) });
      stream.end(body);
    } else {
      (res as http.ServerResponse).writeHead(codeToHttpStatus(err.code), headers);
      (res as http.ServerResponse).end(body);
    }
    return;
  }
  const status = new Headers();
  setTrailerStatus(status, err);
  const trailers = headerObject(status);
  if (protocol === 'grpc' && stream) {
    // Trailers-only response: status travels in the (only) HEADERS frame.
    stream.respond({ ...GRPC_HEADERS, ...trailers }, { endStream: true });
    return;
  }
  const text = Object.entries(trailers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const body = frame(Buffer.from(text), 0x80);
  if (stream) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc-web+proto' });
    stream.end(body);
  } else {
    (res as http.ServerResponse).writeHead(200, {
      'content-type': 'application/grpc-web+proto',
      'content-length': body.length,
    });
    (res as http.ServerResponse).end(body);
  }
}
