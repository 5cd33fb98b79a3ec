import { invalidArgument, type Limits } from '@prism/sdk';

/**
 * The smallest string greater than every string starting with `prefix`, or undefined when there is none
 * (empty prefix, or only U+10FFFF characters). Backends that compare keys as UTF-8 bytes (PostgreSQL
 * COLLATE "C", SQLite BINARY) order like code points, so `key >= prefix AND key < successor` is an
 * index-friendly literal prefix match (no LIKE, so `%` and `_` need no escaping).
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    const last = cps.pop()!;
    if (last < 0x10ffff) {
      cps.push(last === 0xd7ff ? 0xe000 : last + 1); // skip the surrogate range
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

/** Encodes the last key of a page as an opaque resume cursor. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a cursor from {@link encodeCursor}; '' means "from the start". A cursor comes back from the
 * client, so it is validated in full: canonical base64url of UTF-8, and a key as the scan could have
 * returned it — non-empty, no NUL, starting with the scan's `prefix` and (given the namespace's `limits`)
 * within the key length limit. Anything else is INVALID_ARGUMENT.
 */
export function decodeCursor(cursor: string, prefix = '', limits?: Limits): string | undefined {
  if (cursor === '') return undefined;
  const raw = Buffer.from(cursor, 'base64url');
  let key: string;
  try {
    if (raw.length === 0 || raw.toString('base64url') !== cursor) throw new Error('not base64url');
    key = utf8.decode(raw);
    if (key.includes('\u0000')) throw new Error('keys never contain NUL');
    if (!key.startsWith(prefix)) throw new Error('outside the prefix');
    if (limits && raw.length > limits.maxKeyBytes) throw new Error('longer than any key');
  } catch {
    throw invalidArgument(
      'cursor is not a cursor returned by a previous page of this scan; pass "" to start over',
    );
  }
  return key;
}
