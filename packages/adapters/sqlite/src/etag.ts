/**
 * Etags are the row's `version` (a random 64-bit integer drawn by SQLite's random() on every write) as a
 * decimal string. Random rather than a counter, so a deleted and re-created key never repeats an etag.
 */
export const etagOf = (version: bigint): string => version.toString();

/** The version an etag stands for, or undefined when it cannot be one of ours (then it never matches). */
export function versionOf(etag: string): bigint | undefined {
  if (!/^-?\d{1,20}$/.test(etag)) return undefined;
  const v = BigInt(etag);
  return BigInt.asIntN(64, v) === v ? v : undefined;
}
