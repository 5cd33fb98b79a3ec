import { InsertPosition, ListIndexingInterface } from '@prism/proto/prism/list/v1/list_indexing_pb';
import { checkKey, checkValue, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/list/v1/list_indexing_pb';

/** The list_indexing flavour: Index, SetIndex, Insert (by pivot) and Remove (by value) on list_basic lists. */
export const ListIndexing = defineInterface(
  'list_indexing',
  ListIndexingInterface,
  { index: 'read', setIndex: 'write', insert: 'write', remove: 'write' },
  {
    index: (req, limits) => checkKey(req.key, limits),
    setIndex: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.value, limits);
    },
    insert: (req, limits) => {
      checkKey(req.key, limits);
      if (req.position !== InsertPosition.BEFORE && req.position !== InsertPosition.AFTER)
        throw invalidArgument(
          `position must be INSERT_POSITION_BEFORE or INSERT_POSITION_AFTER (got ${req.position})`,
        );
      checkValue(req.pivot, limits, 'pivot');
      checkValue(req.value, limits);
    },
    remove: (req, limits) => {
      checkKey(req.key, limits);
      checkValue(req.value, limits);
    },
  },
);

/** What an adapter implements for list_indexing. */
export type ListIndexingImpl = InterfaceImpl<typeof ListIndexingInterface>;

/**
 * The position `index` (negative from the tail) addresses in a list of `length` values, or undefined
 * when it is out of range. Shared by adapters that index lists themselves.
 */
export function resolveIndex(index: bigint, length: number): number | undefined {
  const i = index < 0n ? BigInt(length) + index : index;
  return i < 0n || i >= BigInt(length) ? undefined : Number(i);
}
