import { KeyValueBatchInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_batch_pb';
import { checkKey, checkValue, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_batch_pb';

/** Most keys (or entries) one batch call may carry. */
export const MAX_BATCH_KEYS = 1000;

function checkBatchSize(n: number, field: string): void {
  if (n > MAX_BATCH_KEYS)
    throw invalidArgument(
      `${field} has ${n} items; a batch holds at most ${MAX_BATCH_KEYS} (split it into several calls)`,
    );
}

/** The keyvalue_batch flavour: BatchSet, BatchGet, BatchDelete (results in request order). */
export const KeyValueBatch = defineInterface(
  'keyvalue_batch',
  KeyValueBatchInterface,
  { batchSet: 'write', batchGet: 'read', batchDelete: 'write' },
  {
    batchSet: (req, limits) => {
      checkBatchSize(req.entries.length, 'entries');
      req.entries.forEach((e, i) => {
        checkKey(e.key, limits, `entries[${i}].key`);
        checkValue(e.value, limits, `entries[${i}].value`);
      });
    },
    batchGet: (req, limits) => {
      checkBatchSize(req.keys.length, 'keys');
      for (const [i, k] of req.keys.entries()) checkKey(k, limits, `keys[${i}]`);
    },
    batchDelete: (req, limits) => {
      checkBatchSize(req.keys.length, 'keys');
      for (const [i, k] of req.keys.entries()) checkKey(k, limits, `keys[${i}]`);
    },
  },
);

/** What an adapter implements for keyvalue_batch. */
export type KeyValueBatchImpl = InterfaceImpl<typeof KeyValueBatchInterface>;

/**
 * deleted[] flags for BatchDelete from the set of keys that existed before the call: true for the
 * first occurrence of an existing key, false for missing keys and repeats. Shared by adapters.
 */
export function batchDeleteFlags(keys: readonly string[], existed: ReadonlySet<string>): boolean[] {
  const seen = new Set<string>();
  return keys.map((k) => {
    const first = !seen.has(k);
    seen.add(k);
    return first && existed.has(k);
  });
}
