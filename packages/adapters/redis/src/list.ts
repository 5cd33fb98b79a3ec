import type { ListBasicImpl } from '@prism/list-basic';
import { InsertPosition, type ListIndexingImpl } from '@prism/list-indexing';
import { effectiveRangeLimit, type ListRangeImpl, MAX_RANGE_BYTES } from '@prism/list-range';
import { Code, ConnectError, internal, notFound } from '@prism/sdk';
import { type RedisConnection, type Reply, script } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, bytes, int } from './kv.js';

export const popped = (reply: Reply) =>
  reply === null || reply === undefined ? { found: false } : { found: true, value: bytes(reply) };

/** list_basic on native Redis lists (LPUSH/RPUSH/LPOP/RPOP/LLEN); an emptied list disappears in Redis too. */
export function redisList(conn: RedisConnection, keys: KeySpace): ListBasicImpl {
  return {
    async pushLeft(req, ctx) {
      return {
        length: BigInt(
          int(await conn.call(['LPUSH', keys.list(req.key), ...req.values.map(arg)], false, ctx)),
        ),
      };
    },
    async pushRight(req, ctx) {
      return {
        length: BigInt(
          int(await conn.call(['RPUSH', keys.list(req.key), ...req.values.map(arg)], false, ctx)),
        ),
      };
    },
    async popLeft(req, ctx) {
      return popped(await conn.call(['LPOP', keys.list(req.key)], true, ctx));
    },
    async popRight(req, ctx) {
      return popped(await conn.call(['RPOP', keys.list(req.key)], true, ctx));
    },
    async length(req, ctx) {
      return { length: BigInt(int(await conn.call(['LLEN', keys.list(req.key)], false, ctx))) };
    },
  };
}

// ---- list_indexing and list_range (Lua where an answer needs the length read in the same step) ----

/** LSET with the checks done first: {1} set, {-1} missing list, {-2, length} index out of range. ARGV: index, value. */
const SET_INDEX = script(`
local n = redis.call('LLEN', KEYS[1])
if n == 0 then return {-1, 0} end
local i = tonumber(ARGV[1])
if i < 0 then i = n + i end
if i < 0 or i >= n then return {-2, n} end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[2])
return {1, n}`);

/** LINSERT answering {pivot_found, length}. ARGV: BEFORE|AFTER, pivot, value. */
const INSERT = script(`
local r = redis.call('LINSERT', KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if r == -1 then return {0, redis.call('LLEN', KEYS[1])} end
if r == 0 then return {0, 0} end
return {1, r}`);

/**
 * LRANGE bounded by ARGV[3] values and ARGV[4] bytes (at least one value), read in chunks so a long range
 * is never materialised whole. ARGV: start, stop, limit, max_bytes. Answers {length, truncated, next_start,
 * values...}.
 */
const RANGE = script(`
local n = redis.call('LLEN', KEYS[1])
local s = tonumber(ARGV[1])
local e = tonumber(ARGV[2])
if s < 0 then s = n + s end
if e < 0 then e = n + e end
if s < 0 then s = 0 end
if e >= n then e = n - 1 end
if s > e or s >= n then return {n, 0, 0} end
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local out = {n, 0, 0}
local count = 0
local size = 0
local i = s
while i <= e do
  if count >= limit then break end
  local last = math.min(e, i + 99, s + limit - 1)
  local chunk = redis.call('LRANGE', KEYS[1], i, last)
  local full = false
  for _, v in ipairs(chunk) do
    if count > 0 and size + #v > budget then full = true break end
    count = count + 1
    size = size + #v
    out[3 + count] = v
  end
  if full then break end
  i = last + 1
end
if s + count <= e then
  out[2] = 1
  out[3] = s + count
end
return out`);

/** LTRIM then LLEN. ARGV: start, stop. */
const TRIM = script(`
redis.call('LTRIM', KEYS[1], ARGV[1], ARGV[2])
return redis.call('LLEN', KEYS[1])`);

const pair = (reply: Reply): [number, number] => {
  if (!Array.isArray(reply))
    throw internal(`unexpected Redis reply ${JSON.stringify(reply)} from a list script`);
  return [int(reply[0]), int(reply[1])];
};

/** list_indexing on native Redis lists: LINDEX, LSET, LINSERT, LREM. */
export function redisListIndexing(conn: RedisConnection, keys: KeySpace): ListIndexingImpl {
  return {
    async index(req, ctx) {
      return popped(await conn.call(['LINDEX', keys.list(req.key), String(req.index)], true, ctx));
    },
    async setIndex(req, ctx) {
      const [code, length] = pair(
        await conn.eval(SET_INDEX, [keys.list(req.key)], [String(req.index), arg(req.value)], false, ctx),
      );
      if (code === -1) throw notFound(`list "${req.key}" does not exist`);
      if (code === -2)
        throw new ConnectError(
          `index ${req.index} is out of range for list "${req.key}" of length ${length} (valid: ${-length} to ${length - 1})`,
          Code.OutOfRange,
        );
      return {};
    },
    async insert(req, ctx) {
      const where = req.position === InsertPosition.BEFORE ? 'BEFORE' : 'AFTER';
      const [found, length] = pair(
        await conn.eval(INSERT, [keys.list(req.key)], [where, arg(req.pivot), arg(req.value)], false, ctx),
      );
      return { pivotFound: found === 1, length: BigInt(length) };
    },
    async remove(req, ctx) {
      const n = await conn.call(['LREM', keys.list(req.key), String(req.count), arg(req.value)], false, ctx);
      return { removed: BigInt(int(n)) };
    },
  };
}

/** list_range on native Redis lists: LRANGE (bounded, in one atomic script) and LTRIM. */
export function redisListRange(conn: RedisConnection, keys: KeySpace): ListRangeImpl {
  return {
    async range(req, ctx) {
      const reply = await conn.eval(
        RANGE,
        [keys.list(req.key)],
        [
          String(req.start),
          String(req.stop),
          String(effectiveRangeLimit(req.limit)),
          String(MAX_RANGE_BYTES),
        ],
        true,
        ctx,
      );
      if (!Array.isArray(reply))
        throw internal(`unexpected Redis reply ${JSON.stringify(reply)} from LRANGE`);
      const truncated = int(reply[1]) === 1;
      return {
        values: reply.slice(3).map(bytes),
        truncated,
        nextStart: truncated ? BigInt(int(reply[2])) : 0n,
        length: BigInt(int(reply[0])),
      };
    },
    async trim(req, ctx) {
      const n = await conn.eval(
        TRIM,
        [keys.list(req.key)],
        [String(req.start), String(req.stop)],
        false,
        ctx,
      );
      return { length: BigInt(int(n)) };
    },
  };
}
