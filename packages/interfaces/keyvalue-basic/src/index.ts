import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { checkKey, checkValue, defineInterface, type InterfaceImpl } from '@prism/sdk';

export * from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';

/** The keyvalue_basic flavour: Set, Get, Delete, Exists. */
export const KeyValueBasic = defineInterface(
  'keyvalue_basic',
  KeyValueBasicInterface,
  { set: 'write', get: 'read', delete: 'write', exists: 'read' },
  {
    set: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.value, limits);
    },
    get: (req, limits) => checkKey(req.key, limits),
    delete: (req, limits) => checkKey(req.key, limits),
    exists: (req, limits) => checkKey(req.key, limits),
  },
);

/** What an adapter implements for keyvalue_basic. */
export type KeyValueBasicImpl = InterfaceImpl<typeof KeyValueBasicInterface>;
