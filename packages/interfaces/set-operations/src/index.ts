import { SetOperationsInterface } from '@prism/proto/prism/set/v1/set_operations_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument, type Limits } from '@prism/sdk';
import { checkBatchSize } from '@prism/set-basic';

export * from '@prism/proto/prism/set/v1/set_operations_pb';

/** Most keys one Union/Intersect/Difference (or Store variant) may combine. */
export const MAX_SET_KEYS = 100;

/** Checks the input keys: 1..MAX_SET_KEYS, each a valid key of the namespace. */
export function checkSetKeys(keys: readonly string[], limits: Limits): void {
  if (keys.length === 0) throw invalidArgument('keys must contain at least one key');
  if (keys.length > MAX_SET_KEYS)
    throw invalidArgument(`keys has ${keys.length} keys; at most ${MAX_SET_KEYS} per operation`);
  for (let i = 0; i < keys.length; i++) checkKey(keys[i]!, limits, `keys[${i}]`);
}

const streamed = (req: { keys: string[]; batchSize: number }, limits: Limits) => {
  checkSetKeys(req.keys, limits);
  checkBatchSize(req.batchSize);
};

const stored = (req: { destination: string; keys: string[] }, limits: Limits) => {
  checkKey(req.destination, limits, 'destination');
  checkSetKeys(req.keys, limits);
};

/** The set_operations flavour: union, intersection and difference, streamed or stored (SUNION…STORE). */
export const SetOperations = defineInterface(
  'set_operations',
  SetOperationsInterface,
  {
    union: 'read',
    intersect: 'read',
    difference: 'read',
    unionStore: 'write',
    intersectStore: 'write',
    differenceStore: 'write',
  },
  {
    union: streamed,
    intersect: streamed,
    difference: streamed,
    unionStore: stored,
    intersectStore: stored,
    differenceStore: stored,
  },
);

/** What an adapter implements for set_operations. */
export type SetOperationsImpl = InterfaceImpl<typeof SetOperationsInterface>;

/** Which operation a request asks for; adapters share one code path for the three. */
export type SetOp = 'union' | 'intersect' | 'difference';

/**
 * The operation over in-memory sets keyed by a member's string form (e.g. latin1 or hex of the bytes):
 * a reference implementation for backends without native set algebra, and the suite's oracle.
 */
export function combine<T>(op: SetOp, sets: readonly ReadonlyMap<string, T>[]): Map<string, T> {
  const [first, ...rest] = sets;
  const out = new Map<string, T>();
  if (!first) return out;
  if (op === 'union') {
    for (const s of sets) for (const [k, v] of s) if (!out.has(k)) out.set(k, v);
    return out;
  }
  for (const [k, v] of first) {
    const keep = op === 'intersect' ? rest.every((s) => s.has(k)) : !rest.some((s) => s.has(k));
    if (keep) out.set(k, v);
  }
  return out;
}
