import { invalidArgument } from '@prism/sdk';

// A cursor is "k" + base64url(UTF-8 of the last key of the page). Scans resume strictly after that key,
// so a cursor stays valid however the store changes between calls and needs no server-side state.
const CURSOR = /^k[A-Za-z0-9_-]+$/;

/** The opaque cursor that resumes a scan right after `lastKey`. */
export function encodeCursor(lastKey: string): string {
  return `k${Buffer.from(lastKey, 'utf8').toString('base64url')}`;
}

/**
 * The key a cursor resumes after; INVALID_ARGUMENT for anything not made by {@link encodeCursor} for a
 * scan of `prefix`: the cursor is validated in full (canonical encoding, valid UTF-8, a non-empty key
 * without NUL, no longer than any key may be, that starts with the prefix), since it comes back from the client.
 */
export function decodeCursor(cursor: string, prefix = '', maxKeyBytes = Number.POSITIVE_INFINITY): string {
  if (CURSOR.test(cursor)) {
    const raw = Buffer.from(cursor.slice(1), 'base64url');
    const key = raw.toString('utf8');
    const ok =
      key.length > 0 && !key.includes('\u0000') && key.startsWith(prefix) && raw.length <= maxKeyBytes;
    if (ok && encodeCursor(key) === cursor) return key;
  }
  throw invalidArgument(
    'cursor is not a next_cursor returned by a previous page of this backend; pass "" to start from the beginning',
  );
}
