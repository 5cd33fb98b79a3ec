import type { JsonReadOptions, JsonWriteOptions } from '@bufbuild/protobuf';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';

// connect-es 2.2 reports some malformed requests as INTERNAL: a protobuf body that does not parse
// ("parse binary: …"), a body that does not inflate ("decompression failed"), a compressed envelope
// without an encoding. They are the caller's fault. The workspace pins connect-es to one version and
// the fuzz test (apps/proxy/src/fuzz.test.ts) checks every path, so matching its messages is safe.
const CLIENT_FAULTS = [
  'parse binary:',
  'decompression failed',
  'received compressed envelope, but do not know how to decompress',
];

/** The same error as INVALID_ARGUMENT when connect-es blamed itself for a malformed request. */
export function asClientError(err: unknown): unknown {
  if (!(err instanceof ConnectError) || err.code !== Code.Internal) return err;
  if (!CLIENT_FAULTS.some((p) => err.rawMessage.startsWith(p))) return err;
  return new ConnectError(
    `malformed request: ${err.rawMessage}`,
    Code.InvalidArgument,
    err.metadata,
    undefined,
    err.cause,
  );
}

/**
 * A connect-node server interceptor: malformed requests read inside the handler (server streams) fail
 * INVALID_ARGUMENT instead of INTERNAL. Unary requests are decoded before interceptors run; binary ones
 * go through the SDK's unary server, which decodes them itself.
 */
export const clientInputErrors: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw asClientError(err);
  }
};

/**
 * connect-node `jsonOptions` whose decoder refuses invalid UTF-8 in Connect JSON bodies (INVALID_ARGUMENT)
 * instead of replacing it with U+FFFD, so keys `k\xFF` and `k\xFE` cannot collide. connect-es reads
 * `textDecoder` from these options (createJsonSerialization) without declaring it in their type.
 */
export const strictJsonOptions = {
  textDecoder: new TextDecoder('utf-8', { fatal: true }),
} as unknown as Partial<JsonReadOptions & JsonWriteOptions>;
