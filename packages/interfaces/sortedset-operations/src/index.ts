import {
  Aggregate,
  SortedSetOperationsInterface,
} from '@prism/proto/prism/sortedset/v1/sortedset_operations_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument, type Limits } from '@prism/sdk';
import { checkLimit, checkScore, effectiveLimit } from '@prism/sortedset-basic';

export * from '@prism/proto/prism/sortedset/v1/sortedset_operations_pb';
export { effectiveLimit, MAX_RANGE_ENTRIES } from '@prism/sortedset-basic';

/** Most source keys of one operation. */
export const MAX_SOURCE_KEYS = 64;

function checkSources(
  req: { keys: string[]; weights: number[]; aggregate: Aggregate },
  limits: Limits,
): void {
  if (req.keys.length === 0) throw invalidArgument('keys must name at least one source key');
  if (req.keys.length > MAX_SOURCE_KEYS)
    throw invalidArgument(`keys names ${req.keys.length} source keys; at most ${MAX_SOURCE_KEYS}`);
  for (let i = 0; i < req.keys.length; i++) checkKey(req.keys[i]!, limits, `keys[${i}]`);
  if (req.weights.length !== 0 && req.weights.length !== req.keys.length)
    throw invalidArgument(
      `weights has ${req.weights.length} entries; give none (all 1) or one per key (${req.keys.length})`,
    );
  for (let i = 0; i < req.weights.length; i++) checkScore(req.weights[i]!, `weights[${i}]`);
  if (!(req.aggregate in Aggregate))
    throw invalidArgument(`aggregate ${req.aggregate} is unknown; use SUM, MIN or MAX`);
}

function checkStore(
  req: { destination: string; keys: string[]; weights: number[]; aggregate: Aggregate },
  limits: Limits,
): void {
  checkKey(req.destination, limits, 'destination');
  checkSources(req, limits);
}

function checkAnswer(
  req: { keys: string[]; weights: number[]; aggregate: Aggregate; limit: number },
  limits: Limits,
): void {
  checkSources(req, limits);
  checkLimit(req.limit);
}

/** The sortedset_operations flavour: weighted union and intersection (Redis ZUNIONSTORE / ZINTERSTORE). */
export const SortedSetOperations = defineInterface(
  'sortedset_operations',
  SortedSetOperationsInterface,
  { unionStore: 'write', intersectStore: 'write', union: 'read', intersect: 'read' },
  { unionStore: checkStore, intersectStore: checkStore, union: checkAnswer, intersect: checkAnswer },
);

/** What an adapter implements for sortedset_operations. */
export type SortedSetOperationsImpl = InterfaceImpl<typeof SortedSetOperationsInterface>;

/** A weighted score as Redis computes it: a NaN product (0 × ±inf) counts as 0. */
export function weighted(score: number, weight: number): number {
  const s = score * weight;
  return Number.isNaN(s) ? 0 : s;
}

/** Combines two weighted scores of one member with the aggregate; a NaN sum (+inf + -inf) counts as 0. */
export function aggregateScores(aggregate: Aggregate, a: number, b: number): number {
  switch (aggregate) {
    case Aggregate.MIN:
      return Math.min(a, b);
    case Aggregate.MAX:
      return Math.max(a, b);
    default: {
      const s = a + b;
      return Number.isNaN(s) ? 0 : s;
    }
  }
}

/** The Redis AGGREGATE argument of an aggregate. */
export const aggregateName = (aggregate: Aggregate): 'SUM' | 'MIN' | 'MAX' =>
  aggregate === Aggregate.MIN ? 'MIN' : aggregate === Aggregate.MAX ? 'MAX' : 'SUM';

/** One source's members by {@link memberId}-style key, for {@link combineSources}. */
export type SourceMembers = ReadonlyMap<string, { readonly member: Uint8Array; readonly score: number }>;

/**
 * ZUNION / ZINTER in memory over each source's members (in request order, missing keys as empty maps),
 * with the request's weights (none: all 1) and aggregate. For adapters that compute operations themselves.
 */
export function combineSources(
  sources: readonly SourceMembers[],
  req: { weights: readonly number[]; aggregate: Aggregate },
  intersect: boolean,
): Map<string, { member: Uint8Array; score: number }> {
  const out = new Map<string, { member: Uint8Array; score: number }>();
  const weight = (i: number) => req.weights[i] ?? 1;
  if (intersect) {
    if (sources.length === 0 || sources.some((s) => s.size === 0)) return out;
    for (const [id, first] of sources[0]!) {
      let score = weighted(first.score, weight(0));
      let everywhere = true;
      for (let i = 1; i < sources.length && everywhere; i++) {
        const hit = sources[i]!.get(id);
        if (hit) score = aggregateScores(req.aggregate, score, weighted(hit.score, weight(i)));
        else everywhere = false;
      }
      if (everywhere) out.set(id, { member: first.member, score });
    }
    return out;
  }
  sources.forEach((source, i) => {
    for (const [id, e] of source) {
      const s = weighted(e.score, weight(i));
      const prev = out.get(id);
      if (prev) prev.score = aggregateScores(req.aggregate, prev.score, s);
      else out.set(id, { member: e.member, score: s });
    }
  });
  return out;
}

/**
 * The answer of Union / Intersect from a {@link combineSources} result: its entries in sorted-set order
 * (score, then member bytes, i.e. the {@link SourceMembers} key's string order), cut to the request's
 * limit (0 means MAX_RANGE_ENTRIES), and whether entries were left out.
 */
export function combinedAnswer(
  result: ReadonlyMap<string, { member: Uint8Array; score: number }>,
  limit: number,
): { entries: { member: Uint8Array; score: number }[]; more: boolean } {
  const all = [...result].sort(([ia, a], [ib, b]) =>
    a.score < b.score ? -1 : a.score > b.score ? 1 : ia < ib ? -1 : ia > ib ? 1 : 0,
  );
  const n = effectiveLimit(limit);
  return { entries: all.slice(0, n).map(([, e]) => e), more: all.length > n };
}
