import { SetRandomInterface } from '@prism/proto/prism/set/v1/set_random_pb';
import { checkKey, defineInterface, type InterfaceImpl, invalidArgument } from '@prism/sdk';

export * from '@prism/proto/prism/set/v1/set_random_pb';

/** Largest `count` of one RandomMember or Pop. */
export const MAX_RANDOM_COUNT = 10_000;

/** Throws INVALID_ARGUMENT unless 1 <= count <= MAX_RANDOM_COUNT. */
export function checkCount(count: number): void {
  if (count < 1 || count > MAX_RANDOM_COUNT)
    throw invalidArgument(`count is ${count}; it must be between 1 and ${MAX_RANDOM_COUNT}`);
}

/** The set_random flavour: RandomMember (SRANDMEMBER, positive counts) and Pop (SPOP with a count). */
export const SetRandom = defineInterface(
  'set_random',
  SetRandomInterface,
  { randomMember: 'read', pop: 'write' },
  {
    randomMember: (req, limits) => {
      checkKey(req.key, limits);
      checkCount(req.count);
    },
    pop: (req, limits) => {
      checkKey(req.key, limits);
      checkCount(req.count);
    },
  },
);

/** What an adapter implements for set_random. */
export type SetRandomImpl = InterfaceImpl<typeof SetRandomInterface>;
