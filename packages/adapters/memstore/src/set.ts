import type { CallContext } from '@prism/sdk';
import { effectiveBatchSize, inBatches, type SetBasicImpl } from '@prism/set-basic';
import type { SetCardinalityImpl } from '@prism/set-cardinality';
import { combine, type SetOp, type SetOperationsImpl } from '@prism/set-operations';
import type { SetRandomImpl } from '@prism/set-random';
import { KeySpace } from './keyspace.js';

// Sets of one namespace: key → (member's latin1 form → member bytes). latin1 maps every byte to one
// UTF-16 unit, so it is a byte-exact, cheap map key. Sets are their own key space (apart from key/value
// and lists). Every operation is synchronous, hence atomic; a set that becomes empty is deleted.
// Members are copied when stored, so neither request buffers nor stored members are aliased.

type Members = Map<string, Uint8Array>;

const id = (member: Uint8Array): string =>
  Buffer.from(member.buffer, member.byteOffset, member.byteLength).toString('latin1');
const copy = (member: Uint8Array): Uint8Array => new Uint8Array(member);
const EMPTY: Members = new Map();

/** Picks `count` distinct random positions out of `n` (partial Fisher-Yates over the needed indexes). */
function samplePositions(n: number, count: number): number[] {
  const k = Math.min(n, count);
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(Math.random() * (n - i));
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(atJ);
  }
  return out;
}

/** The sets of one namespace. */
export class SetStore extends KeySpace<Members> {
  add(key: string, members: readonly Uint8Array[]): number {
    this.assertOpen();
    let set = this.entries.get(key);
    if (!set) {
      set = new Map();
      this.entries.set(key, set);
    }
    const before = set.size;
    for (const m of members) {
      const k = id(m);
      if (!set.has(k)) set.set(k, copy(m));
    }
    return set.size - before;
  }

  remove(key: string, members: readonly Uint8Array[]): number {
    const set = this.get(key);
    let removed = 0;
    for (const m of members) if (set.delete(id(m))) removed++;
    if (set.size === 0) this.entries.delete(key);
    return removed;
  }

  has(key: string, member: Uint8Array): boolean {
    return this.get(key).has(id(member));
  }

  card(key: string): number {
    return this.get(key).size;
  }

  /** The set under key (read-only for callers), or an empty one. */
  get(key: string): ReadonlyMap<string, Uint8Array> & Members {
    this.assertOpen();
    return this.entries.get(key) ?? EMPTY;
  }

  /** Replaces destination with `members` (already private copies); an empty result deletes it. */
  replace(destination: string, members: Members): number {
    this.assertOpen();
    if (members.size === 0) this.entries.delete(destination);
    else this.entries.set(destination, members);
    return members.size;
  }

  random(key: string, count: number, remove: boolean): Uint8Array[] {
    const set = this.get(key);
    if (set.size === 0) return [];
    const entries = count >= set.size ? [...set] : undefined;
    let picked: [string, Uint8Array][];
    if (entries) picked = entries;
    else {
      const all = [...set];
      picked = samplePositions(all.length, count).map((i) => all[i]!);
    }
    if (remove) {
      for (const [k] of picked) set.delete(k);
      if (set.size === 0) this.entries.delete(key);
    }
    return picked.map(([, m]) => m);
  }
}

/** set_basic over a SetStore. Members streams a snapshot taken when the call starts. */
export function memSetBasic(sets: SetStore): SetBasicImpl {
  return {
    add: (req) => ({ added: BigInt(sets.add(req.key, req.members)) }),
    remove: (req) => ({ removed: BigInt(sets.remove(req.key, req.members)) }),
    isMember: (req) => ({ isMember: sets.has(req.key, req.member) }),
    members: (req, ctx: CallContext) =>
      inBatches([...sets.get(req.key).values()], effectiveBatchSize(req.batchSize), ctx.signal),
  };
}

/** set_operations over a SetStore: computed synchronously, so each result is one point in time. */
export function memSetOperations(sets: SetStore): SetOperationsImpl {
  const compute = (op: SetOp, keys: readonly string[]) =>
    combine(
      op,
      keys.map((k) => sets.get(k)),
    );
  const stream = (op: SetOp) => (req: { keys: string[]; batchSize: number }, ctx: CallContext) =>
    inBatches([...compute(op, req.keys).values()], effectiveBatchSize(req.batchSize), ctx.signal);
  // The result shares member buffers with its sources; stored members are never mutated, so that is safe.
  const store = (op: SetOp) => (req: { destination: string; keys: string[] }) => ({
    cardinality: BigInt(sets.replace(req.destination, compute(op, req.keys))),
  });
  return {
    union: stream('union'),
    intersect: stream('intersect'),
    difference: stream('difference'),
    unionStore: store('union'),
    intersectStore: store('intersect'),
    differenceStore: store('difference'),
  };
}

/** set_cardinality over a SetStore. */
export function memSetCardinality(sets: SetStore): SetCardinalityImpl {
  return {
    card: (req) => ({ cardinality: BigInt(sets.card(req.key)) }),
    multiIsMember: (req) => {
      const set = sets.get(req.key);
      return { isMember: req.members.map((m) => set.has(id(m))) };
    },
  };
}

/** set_random over a SetStore. */
export function memSetRandom(sets: SetStore): SetRandomImpl {
  return {
    randomMember: (req) => ({ members: sets.random(req.key, req.count, false) }),
    pop: (req) => ({ members: sets.random(req.key, req.count, true) }),
  };
}
