import type { CallContext } from '@prism/sdk';
import { effectiveBatchSize, inBatches, type SetBasicImpl } from '@prism/set-basic';
import type { SetCardinalityImpl } from '@prism/set-cardinality';
import type { SetOp, SetOperationsImpl } from '@prism/set-operations';
import type { SetRandomImpl } from '@prism/set-random';
import type { RedisConnection, Reply } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, bytes, int, str } from './kv.js';

// Sets are native Redis sets at `<prefix>\0set\0<key>`: a key space of their own (user keys cannot
// contain NUL, so no user key, list or stream collides with them), and every key a multi-key command
// touches — inputs and destination alike — carries the namespace prefix. Redis deletes a set when its
// last member goes, and treats a missing key as the empty set, which is exactly the contract.

/** The Redis key of a set (see the data layout in the README). */
export const setKey = (keys: KeySpace, key: string): string => `${keys.prefix}\u0000set\u0000${key}`;

const members = (reply: Reply): Uint8Array[] => (Array.isArray(reply) ? reply.map(bytes) : []);

/** SSCAN COUNT hint per round trip: about one batch, within Redis' sensible range. */
const sscanCount = (batchSize: number) => Math.min(Math.max(batchSize, 10), 1000);

/** set_basic: SADD / SREM / SISMEMBER, and Members on SSCAN (duplicates SSCAN may return are dropped). */
export function redisSetBasic(conn: RedisConnection, keys: KeySpace): SetBasicImpl {
  return {
    async add(req, ctx) {
      const n = await conn.call(['SADD', setKey(keys, req.key), ...req.members.map(arg)], false, ctx);
      return { added: BigInt(int(n)) };
    },
    async remove(req, ctx) {
      const n = await conn.call(['SREM', setKey(keys, req.key), ...req.members.map(arg)], false, ctx);
      return { removed: BigInt(int(n)) };
    },
    async isMember(req, ctx) {
      const n = await conn.call(['SISMEMBER', setKey(keys, req.key), arg(req.member)], false, ctx);
      return { isMember: int(n) === 1 };
    },
    async *members(req, ctx: CallContext) {
      const key = setKey(keys, req.key);
      const batchSize = effectiveBatchSize(req.batchSize);
      // SSCAN may return a member twice (while Redis rehashes); `seen` keeps each once per call.
      const seen = new Set<string>();
      let pending: Uint8Array[] = [];
      let cursor = '0';
      let done = false;
      while (!done || pending.length > 0) {
        // Fetch only when the next batch is not complete yet: the client's pace drives the SSCANs.
        while (!done && pending.length < batchSize) {
          ctx.signal.throwIfAborted();
          const reply = await conn.call(
            ['SSCAN', key, cursor, 'COUNT', String(sscanCount(batchSize))],
            true,
            ctx,
          );
          const [next, found] = Array.isArray(reply) ? reply : [];
          cursor = str(next);
          done = cursor === '0';
          for (const m of members(found)) {
            const id = Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('latin1');
            if (seen.has(id)) continue;
            seen.add(id);
            pending.push(m);
          }
        }
        if (pending.length === 0) return;
        const batch = pending.slice(0, batchSize);
        pending = pending.slice(batchSize);
        yield { members: batch };
        if (ctx.signal.aborted) return;
      }
    },
  };
}

const COMMANDS: Record<SetOp, { read: string; store: string }> = {
  union: { read: 'SUNION', store: 'SUNIONSTORE' },
  intersect: { read: 'SINTER', store: 'SINTERSTORE' },
  difference: { read: 'SDIFF', store: 'SDIFFSTORE' },
};

/**
 * set_operations: SUNION / SINTER / SDIFF (one atomic snapshot, streamed in batches) and their STORE
 * variants (atomic; Redis overwrites the destination and deletes it for an empty result).
 */
export function redisSetOperations(conn: RedisConnection, keys: KeySpace): SetOperationsImpl {
  const stream = (op: SetOp) =>
    async function* (req: { keys: string[]; batchSize: number }, ctx: CallContext) {
      const reply = await conn.call([COMMANDS[op].read, ...req.keys.map((k) => setKey(keys, k))], true, ctx);
      yield* inBatches(members(reply), effectiveBatchSize(req.batchSize), ctx.signal);
    };
  const store = (op: SetOp) => async (req: { destination: string; keys: string[] }, ctx: CallContext) => {
    const args = [COMMANDS[op].store, setKey(keys, req.destination), ...req.keys.map((k) => setKey(keys, k))];
    return { cardinality: BigInt(int(await conn.call(args, false, ctx))) };
  };
  return {
    union: stream('union'),
    intersect: stream('intersect'),
    difference: stream('difference'),
    unionStore: store('union'),
    intersectStore: store('intersect'),
    differenceStore: store('difference'),
  };
}

/** set_cardinality: SCARD and SMISMEMBER (Redis 6.2+). */
export function redisSetCardinality(conn: RedisConnection, keys: KeySpace): SetCardinalityImpl {
  return {
    async card(req, ctx) {
      return { cardinality: BigInt(int(await conn.call(['SCARD', setKey(keys, req.key)], false, ctx))) };
    },
    async multiIsMember(req, ctx) {
      const reply = await conn.call(
        ['SMISMEMBER', setKey(keys, req.key), ...req.members.map(arg)],
        false,
        ctx,
      );
      return { isMember: (Array.isArray(reply) ? reply : []).map((r) => int(r) === 1) };
    },
  };
}

/** set_random: SRANDMEMBER and SPOP with a positive count (distinct members; SPOP is atomic). */
export function redisSetRandom(conn: RedisConnection, keys: KeySpace): SetRandomImpl {
  return {
    async randomMember(req, ctx) {
      const reply = await conn.call(['SRANDMEMBER', setKey(keys, req.key), String(req.count)], true, ctx);
      return { members: members(reply) };
    },
    async pop(req, ctx) {
      return {
        members: members(await conn.call(['SPOP', setKey(keys, req.key), String(req.count)], true, ctx)),
      };
    },
  };
}
