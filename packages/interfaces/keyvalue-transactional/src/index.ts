import {
  KeyValueTransactionalInterface,
  type TransactCondition,
} from '@prism/proto/prism/keyvalue/v1/keyvalue_transactional_pb';
import {
  aborted,
  type ConnectError,
  checkKey,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
} from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_transactional_pb';

/** Most operations (and, separately, conditions) one Transact call may carry. */
export const MAX_TRANSACTION_OPS = 1000;

/** Largest ttl_ms of a set operation: what a JavaScript number holds exactly. */
export const MAX_TRANSACT_TTL_MS = BigInt(Number.MAX_SAFE_INTEGER);

/** The keyvalue_transactional flavour: one atomic Transact call with conditions and ordered operations. */
export const KeyValueTransactional = defineInterface(
  'keyvalue_transactional',
  KeyValueTransactionalInterface,
  { transact: 'write' },
  {
    transact: (req, limits) => {
      if (req.operations.length === 0)
        throw invalidArgument('operations must not be empty: a transaction needs at least one set or delete');
      if (req.operations.length > MAX_TRANSACTION_OPS)
        throw invalidArgument(
          `operations has ${req.operations.length} items; at most ${MAX_TRANSACTION_OPS}`,
        );
      if (req.conditions.length > MAX_TRANSACTION_OPS)
        throw invalidArgument(
          `conditions has ${req.conditions.length} items; at most ${MAX_TRANSACTION_OPS}`,
        );
      req.conditions.forEach((c, i) => {
        checkKey(c.key, limits, `conditions[${i}].key`);
        if (c.check.case === undefined)
          throw invalidArgument(`conditions[${i}] must set one check: exists, etag or value`);
        if (c.check.case === 'etag' && c.check.value === '')
          throw invalidArgument(
            `conditions[${i}].etag must not be empty (use exists=false to require absence)`,
          );
        if (c.check.case === 'value') checkValue(c.check.value, limits, `conditions[${i}].value`);
      });
      req.operations.forEach((op, i) => {
        switch (op.kind.case) {
          case 'set': {
            const { key, value, ttlMs } = op.kind.value;
            checkKey(key, limits, `operations[${i}].set.key`);
            checkValue(value, limits, `operations[${i}].set.value`);
            if (ttlMs < 0n || ttlMs > MAX_TRANSACT_TTL_MS)
              throw invalidArgument(
                `operations[${i}].set.ttl_ms is ${ttlMs}; use 0 for no TTL or 1..${MAX_TRANSACT_TTL_MS} milliseconds`,
              );
            break;
          }
          case 'delete':
            checkKey(op.kind.value.key, limits, `operations[${i}].delete.key`);
            break;
          default:
            throw invalidArgument(`operations[${i}] must set one kind: set or delete`);
        }
      });
    },
  },
);

/** What an adapter implements for keyvalue_transactional. */
export type KeyValueTransactionalImpl = InterfaceImpl<typeof KeyValueTransactionalInterface>;

/** A key's state before the transaction, as a condition sees it. */
export interface KeyState {
  readonly exists: boolean;
  readonly value?: Uint8Array;
  /** Current etag (adapters with keyvalue_cas); an etag condition never holds when it is undefined. */
  readonly etag?: string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** Whether one condition holds for a key's state. Shared by adapters that evaluate conditions in TypeScript. */
export function conditionHolds(cond: TransactCondition, state: KeyState): boolean {
  switch (cond.check.case) {
    case 'exists':
      return state.exists === cond.check.value;
    case 'etag':
      return state.exists && state.etag !== undefined && state.etag === cond.check.value;
    case 'value':
      return state.exists && state.value !== undefined && sameBytes(state.value, cond.check.value);
    default:
      return false;
  }
}

/** Human wording of a condition, e.g. `key "a" must exist`. */
export function describeCondition(cond: TransactCondition): string {
  switch (cond.check.case) {
    case 'exists':
      return `key "${cond.key}" must ${cond.check.value ? 'exist' : 'not exist'}`;
    case 'etag':
      return `key "${cond.key}" must have etag "${cond.check.value}"`;
    case 'value':
      return `key "${cond.key}" must hold the given ${cond.check.value.byteLength}-byte value`;
    default:
      return `key "${cond.key}" has no check`;
  }
}

/** The ABORTED error for the first failing condition (same wording in every adapter). */
export function conditionFailed(index: number, cond: TransactCondition): ConnectError {
  return aborted(`conditions[${index}] failed (${describeCondition(cond)}); nothing was applied`);
}
