import {
  conditionFailed,
  conditionHolds,
  type KeyState,
  type KeyValueTransactionalImpl,
} from '@prism/keyvalue-transactional';
import { internal } from '@prism/sdk';
import type { FinalState, MemStore } from './store.js';

const MISSING: KeyState = { exists: false };

/**
 * keyvalue_transactional over a MemStore. Everything runs in one synchronous call (no await), so no other
 * call interleaves: conditions are checked against the state before the transaction, the operations are
 * folded in order into one final state per key (last operation wins), and that is applied at once by
 * {@link MemStore.apply} — all of it, or nothing when a condition fails or max_keys would be exceeded.
 */
export function memTransactional(store: MemStore): KeyValueTransactionalImpl {
  const stateOf = (key: string, withEtag: boolean): KeyState => {
    const entry = store.entry(key);
    if (entry === undefined) return MISSING;
    return withEtag
      ? { exists: true, value: entry.value, etag: store.etag(entry.version) }
      : { exists: true, value: entry.value };
  };
  return {
    transact: (req) => {
      req.conditions.forEach((cond, i) => {
        if (!conditionHolds(cond, stateOf(cond.key, cond.check.case === 'etag')))
          throw conditionFailed(i, cond);
      });
      const writes = new Map<string, FinalState>();
      const exists = (key: string) => {
        const state = writes.get(key);
        return state === undefined ? store.entry(key) !== undefined : state !== null;
      };
      const results = req.operations.map((op) => {
        if (op.kind.case === 'set') {
          const { key, value, ttlMs } = op.kind.value;
          const existed = exists(key);
          writes.set(key, { value, ttlMs: ttlMs > 0n ? Number(ttlMs) : undefined });
          return { existed };
        }
        if (op.kind.case !== 'delete') throw internal('operation without kind passed validation');
        const key = op.kind.value.key;
        const existed = exists(key);
        writes.set(key, null);
        return { existed };
      });
      store.apply(writes);
      return { results };
    },
  };
}
