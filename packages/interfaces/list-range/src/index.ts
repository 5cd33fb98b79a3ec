import { ListRangeInterface } from '@prism/proto/prism/list/v1/list_range_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/list/v1/list_range_pb';

/** Values per Range answer when a request leaves `limit` at 0. */
export const DEFAULT_RANGE_LIMIT = 1000;
/** Largest `limit` a Range request may ask for. */
export const MAX_RANGE_LIMIT = 10_000;
/** Most bytes of values in one Range answer (one value is always returned, whatever its size). */
export const MAX_RANGE_BYTES = 8 * 1024 * 1024;

/** The list_range flavour: Range (LRANGE, bounded pages) and Trim (LTRIM) on list_basic lists. */
export const ListRange = defineInterface(
  'list_range',
  ListRangeInterface,
  { range: 'read', trim: 'write' },
  {
    range: (req, limits) => {
      checkKey(req.key, limits);
      if (req.limit > MAX_RANGE_LIMIT)
        throw invalidArgument(
          `limit is ${req.limit}; at most ${MAX_RANGE_LIMIT} (0 means ${DEFAULT_RANGE_LIMIT}); page with next_start`,
        );
    },
    trim: (req, limits) => checkKey(req.key, limits),
  },
);

/** What an adapter implements for list_range. */
export type ListRangeImpl = InterfaceImpl<typeof ListRangeInterface>;

/** The values a request may get at most, resolved against the default. */
export function effectiveRangeLimit(limit: number): number {
  return limit === 0 ? DEFAULT_RANGE_LIMIT : limit;
}

/**
 * The absolute inclusive bounds [first, last] that start..stop addresses in a list of `length` values
 * (Redis LRANGE/LTRIM clamping), or undefined for an empty range. Shared by adapters.
 */
export function resolveRange(start: bigint, stop: bigint, length: number): [number, number] | undefined {
  const n = BigInt(length);
  let s = start < 0n ? n + start : start;
  let e = stop < 0n ? n + stop : stop;
  if (s < 0n) s = 0n;
  if (e >= n) e = n - 1n;
  if (s > e || s >= n) return undefined;
  return [Number(s), Number(e)];
}

/**
 * Cuts the values of a range (in order) down to one bounded answer: at most `limit` values and
 * {@link MAX_RANGE_BYTES} bytes, at least one. `first` is the absolute index of values[0]; `rangeSize`
 * is how many values the whole range holds (values may be a prefix of it).
 */
export function boundRange(
  values: readonly Uint8Array[],
  first: number,
  rangeSize: number,
  limit: number,
): { values: Uint8Array[]; truncated: boolean; nextStart: bigint } {
  const out: Uint8Array[] = [];
  let bytes = 0;
  for (const v of values) {
    if (out.length >= limit) break;
    if (out.length > 0 && bytes + v.byteLength > MAX_RANGE_BYTES) break;
    bytes += v.byteLength;
    out.push(v);
  }
  const truncated = out.length < rangeSize;
  return { values: out, truncated, nextStart: truncated ? BigInt(first + out.length) : 0n };
}
