import {
  aborted,
  Code,
  ConnectError,
  deadlineExceeded,
  failedPrecondition,
  invalidArgument,
  isConnectionError,
  permissionDenied,
  resourceExhausted,
  unauthenticated,
  unavailable,
} from '@prism/sdk';

/** SQLSTATE of a PostgreSQL error, if `err` is one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || (err as { name?: unknown }).name !== 'PostgresError')
    return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Node's TLS failures: certificate verification (e.g. SELF_SIGNED_CERT_IN_CHAIN) and ERR_TLS_* / ERR_SSL_*. */
function isTlsError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /CERT|ERR_TLS_|ERR_SSL_|UNABLE_TO_VERIFY|SELF_SIGNED/.test(code);
}

/**
 * Maps a postgres.js failure to the Connect code a caller can act on; `where` names namespace and backend,
 * `scrub` removes secrets from the message. Unknown errors are returned unchanged (the SDK makes them INTERNAL).
 */
export function mapPgError(err: unknown, where: string, scrub: (s: string) => string): unknown {
  if (err instanceof ConnectError) return err;
  const message = scrub(err instanceof Error ? err.message : String(err));
  if (isConnectionError(err)) return unavailable(`${where} is unavailable: ${message}`);
  if (isTlsError(err)) return failedPrecondition(`${where}: TLS handshake failed: ${message}`);
  const state = sqlState(err);
  if (!state) return err;
  const msg = `${where}: ${message} (SQLSTATE ${state})`;
  if (state === '57014') return deadlineExceeded(`${where}: statement timed out or was canceled`);
  // 08 connection exception, 57P0x shutdown / cannot connect now, 53300 too many connections.
  if (state.startsWith('08') || state.startsWith('57P') || state === '53300') return unavailable(msg);
  if (state === '40001' || state === '40P01') return aborted(`${msg}; retry the call`);
  if (state === '53100' || state === '53200') return resourceExhausted(msg);
  if (state === '54000') return invalidArgument(msg); // e.g. a key too large for the btree index
  // 28P01: wrong password or unknown role (the server does not say which), also after a rotation.
  if (state === '28P01') return unauthenticated(msg);
  // 28000: pg_hba.conf has no entry for us, or the role may not log in.
  if (state === '28000') return permissionDenied(msg);
  // 3D000 unknown database, 42501 missing privilege: configuration problems.
  if (state === '3D000' || state === '42501') return failedPrecondition(msg);
  return new ConnectError(msg, Code.Internal, undefined, undefined, err);
}
