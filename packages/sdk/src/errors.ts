import { Code, ConnectError } from '@connectrpc/connect';

export { Code, ConnectError };

/** Bad input from the caller: the message should say which field and what is allowed. */
export const invalidArgument = (message: string): ConnectError =>
  new ConnectError(message, Code.InvalidArgument);
/** The addressed thing does not exist. */
export const notFound = (message: string): ConnectError => new ConnectError(message, Code.NotFound);
/** A create-only write found the key already there. */
export const alreadyExists = (message: string): ConnectError => new ConnectError(message, Code.AlreadyExists);
/** An optimistic-concurrency check (etag/version) failed; the caller should re-read and retry. */
export const aborted = (message: string): ConnectError => new ConnectError(message, Code.Aborted);
/** A quota or capacity is exhausted. */
export const resourceExhausted = (message: string): ConnectError =>
  new ConnectError(message, Code.ResourceExhausted);
/** The system is not in a state the call needs (e.g. plugin not started). */
export const failedPrecondition = (message: string): ConnectError =>
  new ConnectError(message, Code.FailedPrecondition);
/**
 * The backend refused the credentials it was given (wrong, rotated or expired secret). The message names
 * the backend and the user, never the secret; a new instance with the right secret fixes it.
 */
export const unauthenticated = (message: string): ConnectError =>
  new ConnectError(message, Code.Unauthenticated);
/** The credentials were accepted but do not allow the operation (e.g. a Redis ACL without the command). */
export const permissionDenied = (message: string): ConnectError =>
  new ConnectError(message, Code.PermissionDenied);
/** The backend cannot be reached right now; retrying later may succeed. */
export const unavailable = (message: string): ConnectError => new ConnectError(message, Code.Unavailable);
/** The deadline passed before the backend answered. */
export const deadlineExceeded = (message: string): ConnectError =>
  new ConnectError(message, Code.DeadlineExceeded);
/** The operation is not offered here. */
export const unimplemented = (message: string): ConnectError => new ConnectError(message, Code.Unimplemented);
/** A bug or an unexpected backend answer. */
export const internal = (message: string): ConnectError => new ConnectError(message, Code.Internal);

// Node/socket error codes that mean "the backend is not reachable right now".
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNABORTED',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

// Some clients (connect-node among them) wrap a socket error into a new error keeping only its text.
const UNAVAILABLE_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|ECONNABORTED)\b/;

/** True when an error (or its cause chain, or an AggregateError member) is a network-level failure. */
export function isConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = errorCode(e);
    if (code && UNAVAILABLE_CODES.has(code)) return true;
    if (e instanceof Error && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    if (e instanceof AggregateError && e.errors.some(isConnectionError)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Converts anything thrown by adapter code into a ConnectError: ConnectErrors pass through, network
 * failures become UNAVAILABLE, aborts become CANCELED/DEADLINE_EXCEEDED, the rest INTERNAL. `where`
 * (e.g. `redis backend of namespace "sessions"`) makes the message actionable.
 */
export function toConnectError(err: unknown, where: string): ConnectError {
  if (err instanceof ConnectError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isConnectionError(err))
    return new ConnectError(`${where} is unavailable: ${message}`, Code.Unavailable);
  if (err instanceof Error && err.name === 'TimeoutError')
    return new ConnectError(`${where} timed out: ${message}`, Code.DeadlineExceeded);
  if (err instanceof Error && err.name === 'AbortError')
    return new ConnectError(`${where}: call canceled`, Code.Canceled);
  return new ConnectError(`${where} failed: ${message}`, Code.Internal, undefined, undefined, err);
}

const CODE_NAMES = new Map<Code, string>(
  Object.entries(Code)
    .filter((e): e is [string, Code] => typeof e[1] === 'number')
    .map(([name, code]) => [code, name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()]),
);

/** The canonical gRPC name of a code (`INVALID_ARGUMENT`), as logs, metrics and traces show it; OK for 0. */
export function codeName(code: Code | undefined): string {
  return code === undefined ? 'OK' : (CODE_NAMES.get(code) ?? String(code));
}
