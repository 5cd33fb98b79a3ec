import { type ScoreBound, SortedSetRangeInterface } from '@prism/proto/prism/sortedset/v1/sortedset_range_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';
import { checkLimit, checkScore } from '@prism/sortedset-basic';

export * from '@prism/proto/prism/sortedset/v1/sortedset_range_pb';
export { effectiveLimit, MAX_RANGE_ENTRIES, type ScoredMember } from '@prism/sortedset-basic';

function checkBounds(req: { min?: ScoreBound | undefined; max?: ScoreBound | undefined }): void {
  if (req.min) checkScore(req.min.value, 'min.value');
  if (req.max) checkScore(req.max.value, 'max.value');
}

/** Rank arguments must be safe integers so every backend resolves them the same way. */
function checkRank(n: bigint, field: string): void {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
    throw invalidArgument(`${field} is ${n}; it must be within ±${Number.MAX_SAFE_INTEGER}`);
}

/** The sortedset_range flavour: entries by score interval or by rank, forward or reverse (Redis ZRANGE). */
export const SortedSetRange = defineInterface(
  'sortedset_range',
  SortedSetRangeInterface,
  { rangeByScore: 'read', rangeByRank: 'read', countByScore: 'read' },
  {
    rangeByScore: (req, limits) => {
      checkKey(req.key, limits);
      checkBounds(req);
      checkLimit(req.limit);
    },
    rangeByRank: (req, limits) => {
      checkKey(req.key, limits);
      checkRank(req.start, 'start');
      checkRank(req.stop, 'stop');
    },
    countByScore: (req, limits) => {
      checkKey(req.key, limits);
      checkBounds(req);
    },
  },
);

/** What an adapter implements for sortedset_range. */
export type SortedSetRangeImpl = InterfaceImpl<typeof SortedSetRangeInterface>;

/** A score bound resolved for comparisons: an unset min is -inf inclusive, an unset max +inf inclusive. */
export interface ResolvedBound {
  readonly value: number;
  readonly exclusive: boolean;
}

export const resolveMin = (b: ResolvedBound | undefined): ResolvedBound =>
  b ? { value: b.value, exclusive: b.exclusive } : { value: Number.NEGATIVE_INFINITY, exclusive: false };
export const resolveMax = (b: ResolvedBound | undefined): ResolvedBound =>
  b ? { value: b.value, exclusive: b.exclusive } : { value: Number.POSITIVE_INFINITY, exclusive: false };

/**
 * Resolves Redis rank arguments (negative from the end) against a cardinality: the inclusive index
 * range [from, to] in answer order, or undefined when it is empty.
 */
export function resolveRanks(
  start: number,
  stop: number,
  card: number,
): { from: number; to: number } | undefined {
  let from = start < 0 ? card + start : start;
  let to = stop < 0 ? card + stop : stop;
  if (from < 0) from = 0;
  if (to >= card) to = card - 1;
  if (from > to || from >= card) return undefined;
  return { from, to };
}
