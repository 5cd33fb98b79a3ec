import { KeyValueTTLInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_ttl_pb';
import {
  checkKey,
  checkPositive,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
} from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_ttl_pb';

/** Largest TTL accepted: what a JavaScript number holds exactly (about 285,000 years). */
export const MAX_TTL_MS = BigInt(Number.MAX_SAFE_INTEGER);

/** A TTL must be > 0 and small enough to convert to a number without losing precision. */
function checkTTL(ttlMs: bigint): void {
  checkPositive(ttlMs, 'ttl_ms');
  if (ttlMs > MAX_TTL_MS) throw invalidArgument(`ttl_ms is ${ttlMs}; at most ${MAX_TTL_MS}`);
}

/** The keyvalue_ttl flavour: SetWithTTL, Expire, GetTTL, Persist (milliseconds). */
export const KeyValueTTL = defineInterface(
  'keyvalue_ttl',
  KeyValueTTLInterface,
  { setWithTTL: 'write', expire: 'write', getTTL: 'read', persist: 'write' },
  {
    setWithTTL: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.value, limits);
      checkTTL(req.ttlMs);
    },
    expire: (req, limits) => {
      checkKey(req.key, limits);
      checkTTL(req.ttlMs);
    },
    getTTL: (req, limits) => checkKey(req.key, limits),
    persist: (req, limits) => checkKey(req.key, limits),
  },
);

/** What an adapter implements for keyvalue_ttl. */
export type KeyValueTTLImpl = InterfaceImpl<typeof KeyValueTTLInterface>;
