import { randomBytes } from 'node:crypto';
import { KeyValueCASInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_cas_pb';
import {
  aborted,
  alreadyExists,
  checkKey,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
} from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_cas_pb';

/** Longest etag a client may send back; real etags are far shorter. */
export const MAX_ETAG_LENGTH = 256;

function checkEtag(etag: string, field: string): void {
  if (etag.length > MAX_ETAG_LENGTH)
    throw invalidArgument(
      `${field} is ${etag.length} characters; etags are at most ${MAX_ETAG_LENGTH} (pass the etag as returned)`,
    );
}

/** The keyvalue_cas flavour: GetVersioned, CompareAndSet, CompareAndDelete (opaque etags). */
export const KeyValueCAS = defineInterface(
  'keyvalue_cas',
  KeyValueCASInterface,
  { getVersioned: 'read', compareAndSet: 'write', compareAndDelete: 'write' },
  {
    getVersioned: (req, limits) => checkKey(req.key, limits),
    compareAndSet: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.value, limits);
      checkEtag(req.expectedEtag, 'expected_etag');
      if (req.expectedEtag !== '' && req.createOnly)
        throw invalidArgument(
          'expected_etag and create_only exclude each other: use expected_etag to update a key you read, create_only to create a new one',
        );
    },
    compareAndDelete: (req, limits) => {
      checkKey(req.key, limits);
      if (req.expectedEtag === '')
        throw invalidArgument(
          'expected_etag is required: read it with GetVersioned (use Delete for an unconditional delete)',
        );
      checkEtag(req.expectedEtag, 'expected_etag');
    },
  },
);

/** What an adapter implements for keyvalue_cas. */
export type KeyValueCASImpl = InterfaceImpl<typeof KeyValueCASInterface>;

/** A fresh etag: 96 random bits, base64url (16 characters). Adapters may use their own format. */
export function newEtag(): string {
  return randomBytes(12).toString('base64url');
}

/** The ABORTED error every adapter answers when an expected etag does not match (same wording everywhere). */
export function etagMismatch(key: string, exists: boolean): Error {
  return aborted(
    exists
      ? `key "${key}" was modified since it was read (etag mismatch); read it again with GetVersioned and retry`
      : `key "${key}" does not exist (it was deleted since it was read); read it again with GetVersioned and retry`,
  );
}

/** The ALREADY_EXISTS error of a create_only write that found the key. */
export function keyExists(key: string): Error {
  return alreadyExists(`key "${key}" already exists (create_only); read it with GetVersioned to update it`);
}
