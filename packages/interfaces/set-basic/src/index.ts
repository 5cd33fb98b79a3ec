import { SetBasicInterface } from '@prism/proto/prism/set/v1/set_basic_pb';
import {
  checkKey,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
  type Limits,
} from '@prism/sdk';

export * from '@prism/proto/prism/set/v1/set_basic_pb';

/** Most members one Add, Remove or MultiIsMember call may carry. */
export const MAX_MEMBERS_PER_CALL = 10_000;
/** Members per streamed batch when a request leaves `batch_size` at 0. */
export const DEFAULT_BATCH_SIZE = 100;
/** Largest `batch_size` a request may ask for. */
export const MAX_BATCH_SIZE = 10_000;

/** Checks a member list: 1..MAX_MEMBERS_PER_CALL members, each within the namespace's value limit. */
export function checkMembers(members: readonly Uint8Array[], limits: Limits, field = 'members'): void {
  if (members.length === 0) throw invalidArgument(`${field} must contain at least one member`);
  if (members.length > MAX_MEMBERS_PER_CALL)
    throw invalidArgument(`${field} has ${members.length} members; at most ${MAX_MEMBERS_PER_CALL} per call`);
  for (let i = 0; i < members.length; i++) checkValue(members[i]!, limits, `${field}[${i}]`);
}

/** Throws INVALID_ARGUMENT when `batch_size` exceeds {@link MAX_BATCH_SIZE}. */
export function checkBatchSize(batchSize: number): void {
  if (batchSize > MAX_BATCH_SIZE)
    throw invalidArgument(
      `batch_size is ${batchSize}; at most ${MAX_BATCH_SIZE} (0 means ${DEFAULT_BATCH_SIZE})`,
    );
}

/** The batch size a request asks for, resolved against the default, so every backend batches alike. */
export function effectiveBatchSize(batchSize: number): number {
  return batchSize === 0 ? DEFAULT_BATCH_SIZE : batchSize;
}

/**
 * Streams `members` in batches of `batchSize` (an adapter helper for Members and the set operations). The
 * consumer pulls each batch, so nothing is read ahead; it stops early when the call is cancelled.
 */
export async function* inBatches(
  members: Iterable<Uint8Array>,
  batchSize: number,
  signal: AbortSignal,
): AsyncGenerator<{ members: Uint8Array[] }> {
  let batch: Uint8Array[] = [];
  for (const member of members) {
    batch.push(member);
    if (batch.length === batchSize) {
      yield { members: batch };
      if (signal.aborted) return;
      batch = [];
    }
  }
  if (batch.length > 0) yield { members: batch };
}

/** The set_basic flavour: unordered sets of distinct byte-string members per key (Redis SADD/SREM). */
export const SetBasic = defineInterface(
  'set_basic',
  SetBasicInterface,
  { add: 'write', remove: 'write', isMember: 'read', members: 'read' },
  {
    add: (req, limits) => {
      checkKey(req.key, limits);
      checkMembers(req.members, limits);
    },
    remove: (req, limits) => {
      checkKey(req.key, limits);
      checkMembers(req.members, limits);
    },
    isMember: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.member, limits, 'member');
    },
    members: (req, limits) => {
      checkKey(req.key, limits);
      checkBatchSize(req.batchSize);
    },
  },
);

/** What an adapter implements for set_basic. */
export type SetBasicImpl = InterfaceImpl<typeof SetBasicInterface>;
