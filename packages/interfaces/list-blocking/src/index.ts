import { ListBlockingInterface } from '@prism/proto/prism/list/v1/list_blocking_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument, type Limits } from '@prism/sdk';

export * from '@prism/proto/prism/list/v1/list_blocking_pb';

/** Most keys one blocking pop may wait on. */
export const MAX_BLOCKING_KEYS = 16;
/** Longest wait of one blocking pop (5 minutes); also the wait of timeout_ms = 0 without a call deadline. */
export const MAX_BLOCKING_TIMEOUT_MS = 300_000;

function checkBlockingPop(req: { keys: string[]; timeoutMs: bigint }, limits: Limits): void {
  if (req.keys.length === 0) throw invalidArgument('keys must name at least one list to pop from');
  if (req.keys.length > MAX_BLOCKING_KEYS)
    throw invalidArgument(`keys has ${req.keys.length} entries; at most ${MAX_BLOCKING_KEYS}`);
  for (let i = 0; i < req.keys.length; i++) checkKey(req.keys[i]!, limits, `keys[${i}]`);
  if (req.timeoutMs < 0n || req.timeoutMs > BigInt(MAX_BLOCKING_TIMEOUT_MS))
    throw invalidArgument(
      `timeout_ms is ${req.timeoutMs}; it must be 0 (until the call deadline) to ${MAX_BLOCKING_TIMEOUT_MS}`,
    );
}

/** The list_blocking flavour: BlockingPopLeft / BlockingPopRight (BLPOP/BRPOP) over list_basic lists. */
export const ListBlocking = defineInterface(
  'list_blocking',
  ListBlockingInterface,
  { blockingPopLeft: 'write', blockingPopRight: 'write' },
  { blockingPopLeft: checkBlockingPop, blockingPopRight: checkBlockingPop },
);

/** What an adapter implements for list_blocking. */
export type ListBlockingImpl = InterfaceImpl<typeof ListBlockingInterface>;

/**
 * How long (ms) a blocking pop waits from `now`: timeout_ms (0 = no timeout) capped at
 * {@link MAX_BLOCKING_TIMEOUT_MS} and by the call deadline. 0 or less means the deadline has passed.
 * Shared by adapters so every backend ends the wait at the same moment.
 */
export function blockingWaitMs(timeoutMs: bigint, deadline: number | undefined, now = Date.now()): number {
  let wait =
    timeoutMs === 0n ? MAX_BLOCKING_TIMEOUT_MS : Math.min(Number(timeoutMs), MAX_BLOCKING_TIMEOUT_MS);
  if (deadline !== undefined) wait = Math.min(wait, deadline - now);
  return wait;
}
