import { etagMismatch, type KeyValueCASImpl, keyExists } from '@prism/keyvalue-cas';
import type { MemStore } from './store.js';

// Check and write run in one synchronous call, so no other writer can come in between. Etags are the
// store's epoch plus the entry's version (see MemStore.etag): every write of the key, through any
// interface, takes a new version, including a delete and re-create.

/** keyvalue_cas over a MemStore. */
export function memCAS(store: MemStore): KeyValueCASImpl {
  return {
    getVersioned: (req) => {
      const entry = store.entry(req.key);
      return entry === undefined
        ? { found: false, etag: '' }
        : { found: true, value: entry.value, etag: store.etag(entry.version) };
    },
    compareAndSet: (req) => {
      const entry = store.entry(req.key);
      if (req.expectedEtag !== '') {
        if (entry === undefined || store.etag(entry.version) !== req.expectedEtag)
          throw etagMismatch(req.key, entry !== undefined);
      } else if (req.createOnly && entry !== undefined) throw keyExists(req.key);
      return { etag: store.etag(store.set(req.key, req.value)) }; // like Set: clears any TTL
    },
    compareAndDelete: (req) => {
      const entry = store.entry(req.key);
      if (entry === undefined || store.etag(entry.version) !== req.expectedEtag)
        throw etagMismatch(req.key, entry !== undefined);
      store.delete(req.key);
      return {};
    },
  };
}
