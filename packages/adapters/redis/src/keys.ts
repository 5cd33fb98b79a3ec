/**
 * Where a namespace's data lives in Redis. Everything of a namespace starts with its prefix
 * (default `<namespace>:`):
 *   `<prefix><key>`          the value of a key/value pair (a plain Redis string, readable by any client)
 *   `<prefix>\0e\0<key>`     the pair's etag (keyvalue_cas), minted lazily and deleted by every write
 *   `<prefix>\0l\0<key>`     a list (list_basic)
 *   `<prefix>\0q\0<part>\0<queue>`  a work queue (queue_* flavours): part `r` ready sorted set, `f` in-flight
 *                              sorted set, `t` delayed sorted set, `d` message hash, `s` sequence, `p` dead-letter
 *                              policy hash; `w` is its wake channel
 * User keys cannot contain NUL, so internal keys never collide with them, and scans skip any key whose
 * remainder starts with NUL.
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  value(key: string): string {
    return this.prefix + key;
  }

  etag(key: string): string {
    return `${this.prefix}\u0000e\u0000${key}`;
  }

  list(key: string): string {
    return `${this.prefix}\u0000l\u0000${key}`;
  }

  /** A key (or the wake channel, `w`) of work queue `queue`; see the class comment for the parts. */
  queue(queue: string, part: 'r' | 'f' | 't' | 'd' | 's' | 'p' | 'w'): string {
    return `${this.prefix}\u0000q\u0000${part}\u0000${queue}`;
  }

  /** SCAN MATCH pattern for keys starting with `prefix`, with glob characters escaped. */
  match(prefix: string): string {
    return `${escapeGlob(this.prefix + prefix)}*`;
  }

  /** The user key of a Redis key found by SCAN, or undefined for internal or foreign keys. */
  userKey(redisKey: string, prefix: string): string | undefined {
    if (!redisKey.startsWith(this.prefix + prefix)) return undefined;
    const rest = redisKey.slice(this.prefix.length);
    return rest.startsWith('\u0000') ? undefined : rest;
  }
}

/** Escapes Redis glob metacharacters (`* ? [ ] \`) so a string matches literally in MATCH. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
