import { SetCardinalityInterface } from '@prism/proto/prism/set/v1/set_cardinality_pb';
import { checkKey, defineInterface, type InterfaceImpl } from '@prism/sdk';
import { checkMembers } from '@prism/set-basic';

export * from '@prism/proto/prism/set/v1/set_cardinality_pb';

/** The set_cardinality flavour: Card (SCARD) and MultiIsMember (SMISMEMBER). */
export const SetCardinality = defineInterface(
  'set_cardinality',
  SetCardinalityInterface,
  { card: 'read', multiIsMember: 'read' },
  {
    card: (req, limits) => checkKey(req.key, limits),
    multiIsMember: (req, limits) => {
      checkKey(req.key, limits);
      checkMembers(req.members, limits);
    },
  },
);

/** What an adapter implements for set_cardinality. */
export type SetCardinalityImpl = InterfaceImpl<typeof SetCardinalityInterface>;
