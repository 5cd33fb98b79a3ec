import { type LexBound, SortedSetLexInterface } from '@prism/proto/prism/sortedset/v1/sortedset_lex_pb';
import { checkKey, checkValue, defineInterface, type InterfaceImpl, type Limits } from '@prism/sdk';
import { checkLimit } from '@prism/sortedset-basic';

export * from '@prism/proto/prism/sortedset/v1/sortedset_lex_pb';
export { effectiveLimit, MAX_RANGE_ENTRIES } from '@prism/sortedset-basic';

function checkBounds(
  req: { key: string; min?: LexBound | undefined; max?: LexBound | undefined },
  limits: Limits,
): void {
  checkKey(req.key, limits);
  if (req.min) checkValue(req.min.value, limits, 'min.value');
  if (req.max) checkValue(req.max.value, limits, 'max.value');
}

/** The sortedset_lex flavour: members by byte order within a set of equal scores (Redis ZRANGEBYLEX). */
export const SortedSetLex = defineInterface(
  'sortedset_lex',
  SortedSetLexInterface,
  { rangeByLex: 'read', lexCount: 'read' },
  {
    rangeByLex: (req, limits) => {
      checkBounds(req, limits);
      checkLimit(req.limit);
    },
    lexCount: checkBounds,
  },
);

/** What an adapter implements for sortedset_lex. */
export type SortedSetLexImpl = InterfaceImpl<typeof SortedSetLexInterface>;
