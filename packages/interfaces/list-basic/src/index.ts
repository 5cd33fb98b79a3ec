import { ListBasicInterface } from '@prism/proto/prism/list/v1/list_basic_pb';
import {
  checkKey,
  checkValue,
  defineInterface,
  type InterfaceImpl,
  invalidArgument,
  type Limits,
} from '@prism/sdk';

export * from '@prism/proto/prism/list/v1/list_basic_pb';

/** A push needs a key and at least one value, each within the value limit. */
function checkPush(req: { key: string; values: Uint8Array[] }, limits: Limits): void {
  checkKey(req.key, limits);
  if (req.values.length === 0) throw invalidArgument('values must contain at least one value to push');
  for (let i = 0; i < req.values.length; i++) checkValue(req.values[i]!, limits, `values[${i}]`);
}

/** The list_basic flavour: a double-ended list of byte values per key (Redis LPUSH/RPUSH order). */
export const ListBasic = defineInterface(
  'list_basic',
  ListBasicInterface,
  { pushLeft: 'write', pushRight: 'write', popLeft: 'write', popRight: 'write', length: 'read' },
  {
    pushLeft: checkPush,
    pushRight: checkPush,
    popLeft: (req, limits) => checkKey(req.key, limits),
    popRight: (req, limits) => checkKey(req.key, limits),
    length: (req, limits) => checkKey(req.key, limits),
  },
);

/** What an adapter implements for list_basic. */
export type ListBasicImpl = InterfaceImpl<typeof ListBasicInterface>;
