import {
  type AddRequest,
  type ScoredMember,
  SortedSetBasicInterface,
} from '@prism/proto/prism/sortedset/v1/sortedset_basic_pb';
import {
  checkKey,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
  type Limits,
} from '@prism/sdk';

export * from '@prism/proto/prism/sortedset/v1/sortedset_basic_pb';

/** Most entries one sorted-set answer holds (RangeByScore, RangeByRank, RangeByLex, Union, Intersect). */
export const MAX_RANGE_ENTRIES = 10_000;

/** Throws INVALID_ARGUMENT when a score (or weight, or bound) is NaN; ±inf are allowed. */
export function checkScore(score: number, field: string): void {
  if (Number.isNaN(score)) throw invalidArgument(`${field} must be a number, not NaN (±inf are allowed)`);
}

/** Throws INVALID_ARGUMENT unless `limit` is at most {@link MAX_RANGE_ENTRIES} (0 means that maximum). */
export function checkLimit(limit: number, field = 'limit'): void {
  if (limit > MAX_RANGE_ENTRIES)
    throw invalidArgument(
      `${field} is ${limit}; at most ${MAX_RANGE_ENTRIES} (0 means ${MAX_RANGE_ENTRIES})`,
    );
}

/** The number of entries a request with `limit` may answer. */
export const effectiveLimit = (limit: number): number => (limit === 0 ? MAX_RANGE_ENTRIES : limit);

/** Checks the key, a non-empty member list and each member's size, naming the field by index. */
export function checkMembers(req: { key: string; members: Uint8Array[] }, limits: Limits): void {
  checkKey(req.key, limits);
  if (req.members.length === 0) throw invalidArgument('members must contain at least one member');
  for (let i = 0; i < req.members.length; i++) checkValue(req.members[i]!, limits, `members[${i}]`);
}

function checkAdd(req: AddRequest, limits: Limits): void {
  checkKey(req.key, limits);
  if (req.entries.length === 0) throw invalidArgument('entries must contain at least one entry to add');
  for (let i = 0; i < req.entries.length; i++) {
    const e = req.entries[i]!;
    checkValue(e.member, limits, `entries[${i}].member`);
    checkScore(e.score, `entries[${i}].score`);
  }
  if (req.nx && req.xx) throw invalidArgument('nx and xx are mutually exclusive');
  if ((req.gt && req.lt) || (req.nx && (req.gt || req.lt)))
    throw invalidArgument('gt, lt and nx are mutually exclusive');
  if (req.incr && req.entries.length !== 1)
    throw invalidArgument(`incr needs exactly one entry in entries (got ${req.entries.length})`);
}

/** The sortedset_basic flavour: members with double scores per key (Redis ZADD/ZREM/ZSCORE/ZCARD). */
export const SortedSetBasic = defineInterface(
  'sortedset_basic',
  SortedSetBasicInterface,
  { add: 'write', remove: 'write', score: 'read', card: 'read' },
  {
    add: checkAdd,
    remove: checkMembers,
    score: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.member, limits, 'member');
    },
    card: (req, limits) => checkKey(req.key, limits),
  },
);

/** What an adapter implements for sortedset_basic. */
export type SortedSetBasicImpl = InterfaceImpl<typeof SortedSetBasicInterface>;

// ---- shared semantics for adapters that compute sorted-set logic themselves (MemStore, SQL) ----

/** Unsigned lexicographic comparison of bytes (a proper prefix first): the tie order of sorted sets. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Sorted-set order: score ascending, then member bytes. */
export function compareEntries(
  a: { member: Uint8Array; score: number },
  b: { member: Uint8Array; score: number },
): number {
  return a.score < b.score ? -1 : a.score > b.score ? 1 : compareBytes(a.member, b.member);
}

/**
 * A member as a string whose JavaScript order is the member's unsigned byte order (one char per byte,
 * latin1), usable as a Map key. {@link fromMemberId} reverses it.
 */
export const memberId = (member: Uint8Array): string =>
  Buffer.from(member.buffer, member.byteOffset, member.byteLength).toString('latin1');

/** The bytes of a {@link memberId}, as a fresh Uint8Array. */
export const fromMemberId = (id: string): Uint8Array => {
  const b = Buffer.from(id, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** What an Add does to the stored set, computed by {@link planAdd}. */
export interface AddPlan {
  /** Final score per written member (by {@link memberId}), in first-write order; new or changed only. */
  readonly writes: Map<string, { readonly member: Uint8Array; readonly score: number }>;
  /** The answer: added (with ch, added + updated) and, with incr, the new score or undefined. */
  readonly count: number;
  readonly score: number | undefined;
}

/**
 * Redis ZADD semantics over the current scores of the request's members (`current(id)`, undefined when
 * absent), applied one entry at a time in request order. Throws INVALID_ARGUMENT when an increment
 * yields NaN (nothing is then written). Input must have passed the sortedset_basic validator.
 */
export function planAdd(
  req: Pick<AddRequest, 'entries' | 'nx' | 'xx' | 'gt' | 'lt' | 'ch' | 'incr'>,
  current: (id: string) => number | undefined,
): AddPlan {
  const writes = new Map<string, { member: Uint8Array; score: number }>();
  let added = 0;
  let updated = 0;
  let processed = false;
  let result: number | undefined;
  for (const entry of req.entries as ScoredMember[]) {
    const id = memberId(entry.member);
    const cur = writes.has(id) ? writes.get(id)!.score : current(id);
    let score = entry.score;
    if (cur !== undefined) {
      if (req.nx) continue;
      if (req.incr) {
        score += cur;
        if (Number.isNaN(score))
          throw invalidArgument(
            `entries[0].score: incrementing ${cur} by ${entry.score} is not a number (NaN); nothing was changed`,
          );
      }
      if ((req.lt && score >= cur) || (req.gt && score <= cur)) continue;
      processed = true;
      result = score;
      if (score !== cur) {
        writes.set(id, { member: entry.member, score });
        updated++;
      }
    } else if (!req.xx) {
      processed = true;
      result = score;
      writes.set(id, { member: entry.member, score });
      added++;
    }
  }
  return {
    writes,
    count: req.ch ? added + updated : added,
    score: req.incr && processed ? result : undefined,
  };
}
