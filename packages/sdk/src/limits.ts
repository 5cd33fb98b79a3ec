import { invalidArgument } from './errors.js';

/** Per-namespace size limits every adapter enforces (INVALID_ARGUMENT when exceeded). */
export interface Limits {
  /** Maximum key length in UTF-8 bytes. */
  readonly maxKeyBytes: number;
  /** Maximum value length in bytes. */
  readonly maxValueBytes: number;
}

/** Defaults used when a namespace sets no limits: 1 KiB keys, 4 MiB values. */
export const DEFAULT_LIMITS: Limits = Object.freeze({ maxKeyBytes: 1024, maxValueBytes: 4 * 1024 * 1024 });

/** Throws INVALID_ARGUMENT unless `key` is non-empty, has no NUL character and fits the limit. */
export function checkKey(key: string, limits: Limits, field = 'key'): void {
  if (key.length === 0) throw invalidArgument(`${field} must not be empty`);
  // Fast path: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (key.length * 3 > limits.maxKeyBytes) {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes > limits.maxKeyBytes)
      throw invalidArgument(`${field} is ${bytes} bytes; the namespace allows at most ${limits.maxKeyBytes}`);
  }
  if (key.includes('\u0000')) throw invalidArgument(`${field} must not contain the NUL character (U+0000)`);
}

/** Throws INVALID_ARGUMENT when a value exceeds the namespace's limit. */
export function checkValue(value: Uint8Array, limits: Limits, field = 'value'): void {
  if (value.byteLength > limits.maxValueBytes)
    throw invalidArgument(
      `${field} is ${value.byteLength} bytes; the namespace allows at most ${limits.maxValueBytes}`,
    );
}

/** Throws INVALID_ARGUMENT unless `n` is a positive integer (e.g. a TTL). */
export function checkPositive(n: bigint | number, field: string): void {
  if (n <= 0) throw invalidArgument(`${field} must be greater than 0 (got ${n})`);
}
