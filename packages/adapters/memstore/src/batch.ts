import type { KeyValueBatchImpl } from '@prism/keyvalue-batch';
import type { FinalState, MemStore } from './store.js';

// Each call runs synchronously from start to end, so readers see a batch whole or not at all.

/** keyvalue_batch over a MemStore: results in request order, BatchSet all or nothing under max_keys. */
export function memBatch(store: MemStore): KeyValueBatchImpl {
  return {
    batchSet: (req) => {
      // Final state per key (a later entry replaces an earlier one), then applied at once, so a full
      // store (max_keys) rejects the whole batch instead of storing part of it.
      const writes = new Map<string, FinalState>();
      for (const e of req.entries) writes.set(e.key, { value: e.value });
      store.apply(writes);
      return { count: req.entries.length };
    },
    batchGet: (req) => ({
      entries: req.keys.map((key) => {
        const value = store.get(key);
        return value === undefined ? { key, found: false } : { key, found: true, value };
      }),
    }),
    batchDelete: (req) => {
      // Deleting in order makes a repeated key false after its first occurrence.
      const deleted = req.keys.map((key) => store.delete(key));
      return { deleted, deletedCount: deleted.filter(Boolean).length };
    },
  };
}
