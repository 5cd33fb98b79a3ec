import { SortedSetRankInterface } from '@prism/proto/prism/sortedset/v1/sortedset_rank_pb';
import { checkKey, checkValue, defineInterface, type InterfaceImpl, type Limits } from '@prism/sdk';

export * from '@prism/proto/prism/sortedset/v1/sortedset_rank_pb';

function checkMember(req: { key: string; member: Uint8Array }, limits: Limits): void {
  checkKey(req.key, limits);
  checkValue(req.member, limits, 'member');
}

/** The sortedset_rank flavour: a member's 0-based position from the lowest (Rank) or highest (RevRank) entry. */
export const SortedSetRank = defineInterface(
  'sortedset_rank',
  SortedSetRankInterface,
  { rank: 'read', revRank: 'read' },
  { rank: checkMember, revRank: checkMember },
);

/** What an adapter implements for sortedset_rank. */
export type SortedSetRankImpl = InterfaceImpl<typeof SortedSetRankInterface>;
