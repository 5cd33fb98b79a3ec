/** gRPC status numbers → the code names reports use (same names Connect uses, upper snake case). */
const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** Name of a `grpc-status` value; undefined for OK. */
export function grpcCodeName(status: string | number | undefined): string | undefined {
  if (status === undefined) return 'MISSING_STATUS';
  const n = typeof status === 'number' ? status : Number.parseInt(status, 10);
  if (n === 0) return undefined;
  return GRPC_CODES[n] ?? `GRPC_${status}`;
}

/** Name of a Connect error code (`not_found` → `NOT_FOUND`). */
export function connectCodeName(code: unknown, httpStatus: number): string {
  return typeof code === 'string' && code !== '' ? code.toUpperCase() : `HTTP_${httpStatus}`;
}

/** A protocol-level failure (bad framing, unexpected content). */
export class ProtocolError extends Error {
  readonly code = 'PROTOCOL';
}
