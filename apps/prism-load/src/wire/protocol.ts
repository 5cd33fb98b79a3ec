import { connectCodeName, grpcCodeName, ProtocolError } from './codes.js';
import {
  type Envelope,
  encodeEnvelope,
  FLAG_CONNECT_END,
  FLAG_GRPC_WEB_TRAILER,
  parseEnvelopes,
  parseTrailerFrame,
} from './envelope.js';

/** The three wire protocols the proxy serves. */
export type Protocol = 'connect' | 'grpc' | 'grpcweb';
export const PROTOCOLS: readonly Protocol[] = ['connect', 'grpc', 'grpcweb'];

type HeaderBag = Record<string, string | string[] | number | undefined>;

/** A complete HTTP response as a transport hands it over. */
export interface RawResponse {
  readonly status: number;
  readonly headers: HeaderBag;
  readonly body: Buffer;
  readonly trailers: HeaderBag | undefined;
}

/** The outcome of one unary call: `code` undefined means OK and `message` holds the response bytes. */
export interface RpcResult {
  readonly code: string | undefined;
  readonly message: Uint8Array | undefined;
}

const first = (v: string | string[] | number | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);

/** Request headers (besides method and path) for a call. */
export function requestHeaders(protocol: Protocol, streaming: boolean): Record<string, string> {
  switch (protocol) {
    case 'grpc':
      return { 'content-type': 'application/grpc+proto', te: 'trailers' };
    case 'grpcweb':
      return { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' };
    case 'connect':
      return streaming
        ? { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1' }
        : { 'content-type': 'application/proto', 'connect-protocol-version': '1' };
  }
}

/** The request body: enveloped for gRPC, gRPC-web and Connect streaming, raw for Connect unary. */
export function requestBody(protocol: Protocol, message: Uint8Array, streaming: boolean): Uint8Array {
  return protocol === 'connect' && !streaming ? message : encodeEnvelope(message);
}

const OK: RpcResult = { code: undefined, message: undefined };

/** Interprets a complete unary response. */
export function unaryResult(protocol: Protocol, res: RawResponse): RpcResult {
  if (protocol === 'connect') {
    if (res.status === 200) return { code: undefined, message: res.body };
    let code: unknown;
    try {
      code = (JSON.parse(res.body.toString('utf8')) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    return { code: connectCodeName(code, res.status), message: undefined };
  }
  if (res.status !== 200) return { code: `HTTP_${res.status}`, message: undefined };
  // Trailers-only responses carry grpc-status in the headers.
  const headerStatus = first(res.headers['grpc-status']);
  if (headerStatus !== undefined && res.body.length === 0)
    return result(grpcCodeName(headerStatus), undefined);
  const envelopes = parseEnvelopes(res.body);
  let message: Uint8Array | undefined;
  let status = first(res.trailers?.['grpc-status']) ?? headerStatus;
  for (const env of envelopes) {
    if (env.flags & FLAG_GRPC_WEB_TRAILER) status = parseTrailerFrame(env.data)['grpc-status'];
    else if (env.flags === 0) message = env.data;
    else throw new ProtocolError(`unexpected envelope flags ${env.flags}`);
  }
  return result(grpcCodeName(status), message);
}

function result(code: string | undefined, message: Uint8Array | undefined): RpcResult {
  return code === undefined && message === undefined ? OK : { code, message };
}

/**
 * Interprets one envelope of a server stream: a message (`data`), or the end of the stream with its
 * status (`end`, code undefined = OK).
 */
export function streamEnvelope(
  protocol: Protocol,
  env: Envelope,
): { kind: 'data'; data: Buffer } | { kind: 'end'; code: string | undefined } {
  if (protocol === 'grpcweb' && env.flags & FLAG_GRPC_WEB_TRAILER)
    return { kind: 'end', code: grpcCodeName(parseTrailerFrame(env.data)['grpc-status']) };
  if (protocol === 'connect' && env.flags & FLAG_CONNECT_END) {
    let code: unknown;
    try {
      code = (JSON.parse(env.data.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = 'PROTOCOL';
    }
    return { kind: 'end', code: code === undefined ? undefined : connectCodeName(code, 200) };
  }
  return { kind: 'data', data: env.data };
}

/** Status of a gRPC stream from its trailers (or headers, when trailers-only). */
export function grpcStreamStatus(headers: HeaderBag, trailers: HeaderBag | undefined): string | undefined {
  return grpcCodeName(first(trailers?.['grpc-status']) ?? first(headers['grpc-status']));
}
