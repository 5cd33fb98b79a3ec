import { type CallContext, ConnectError, internal, invalidArgument } from '@prism/sdk';
import { effectiveLimit, MAX_RANGE_ENTRIES, type SortedSetBasicImpl } from '@prism/sortedset-basic';
import type { LexBound, SortedSetLexImpl } from '@prism/sortedset-lex';
import { aggregateName, type SortedSetOperationsImpl } from '@prism/sortedset-operations';
import type { ScoreBound, SortedSetRangeImpl } from '@prism/sortedset-range';
import type { SortedSetRankImpl } from '@prism/sortedset-rank';
import { type RedisConnection, type Reply, script } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, bytes, int, str } from './kv.js';

// Sorted sets are native Redis sorted sets at `<prefix>\0zset\0<key>`: a key space of their own (user keys
// cannot contain NUL), and every key a multi-key command touches carries the namespace prefix. Redis orders
// ties by member bytes (memcmp), deletes a sorted set when its last member goes and treats a missing key as
// empty — exactly the contract. Scores travel as Redis double strings: "+inf"/"-inf" for infinities, and
// finite doubles in JavaScript's shortest round-trip form (Redis answers them with %.17g, which parses back
// to the same double).

/** The Redis key of a sorted set (see the data layout in the README). */
export const zsetKey = (keys: KeySpace, key: string): string => `${keys.prefix}\u0000zset\u0000${key}`;

/** A double as a Redis argument. */
export function fmtScore(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+inf';
  if (n === Number.NEGATIVE_INFINITY) return '-inf';
  return String(n);
}

/** A Redis double reply (bulk string "1.5", "inf", "-inf", or a RESP3 double) as a number. */
export function parseScore(reply: Reply): number {
  if (typeof reply === 'number') return reply;
  const s = str(reply).toLowerCase();
  if (s === 'inf' || s === '+inf') return Number.POSITIVE_INFINITY;
  if (s === '-inf') return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  if (Number.isNaN(n)) throw internal(`unexpected Redis score ${JSON.stringify(s)}`);
  return n;
}

/**
 * A WITHSCORES reply as entries (the first `max` of them): flat [member, score, …] under RESP2, or
 * [[member, score], …] pairs under RESP3.
 */
const withScores = (reply: Reply, max = Number.POSITIVE_INFINITY) => {
  const items = Array.isArray(reply) ? reply : [];
  const out: { member: Uint8Array; score: number }[] = [];
  const paired = items.length > 0 && Array.isArray(items[0]);
  for (let i = 0; i < items.length && out.length < max; i += paired ? 1 : 2) {
    const [member, score] = paired ? (items[i] as Reply[]) : [items[i], items[i + 1]];
    out.push({ member: bytes(member), score: parseScore(score) });
  }
  return out;
};

/** Redis refuses an increment whose result is NaN; that is the caller's input, not a backend fault. */
function rethrowNaN(err: unknown): never {
  if (err instanceof ConnectError && /not a number \(NaN\)/i.test(err.rawMessage))
    throw invalidArgument(
      'entries[0].score: the increment makes the score NaN (+inf plus -inf); nothing was changed',
    );
  throw err;
}

/**
 * ZADD … INCR with the ZADD count too: KEYS[1] the sorted set; ARGV[1] increment, ARGV[2] member,
 * ARGV[3..] flags (NX/XX/GT/LT). Returns {added, changed, new score or false when blocked}.
 */
const ZADD_INCR = script(`
local before = redis.call('ZSCORE', KEYS[1], ARGV[2])
local args = {'ZADD', KEYS[1]}
for i = 3, #ARGV do args[#args + 1] = ARGV[i] end
args[#args + 1] = 'INCR'
args[#args + 1] = ARGV[1]
args[#args + 1] = ARGV[2]
local after = redis.call(unpack(args))
if not after then return {0, 0, false} end
if not before then return {1, 0, after} end
if before ~= after then return {0, 1, after} end
return {0, 0, after}`);

/**
 * ZRANGE by rank with the answer limit, atomically: KEYS[1]; ARGV start, stop, max entries, '1' for
 * reverse. Resolves negative ranks against ZCARD; returns {more, [member, score, …]}.
 */
const RANGE_BY_RANK = script(`
local card = redis.call('ZCARD', KEYS[1])
local from = tonumber(ARGV[1])
local to = tonumber(ARGV[2])
if from < 0 then from = card + from end
if to < 0 then to = card + to end
if from < 0 then from = 0 end
if to >= card then to = card - 1 end
if from > to then return {0, {}} end
local more = 0
local max = tonumber(ARGV[3])
if to - from + 1 > max then
  to = from + max - 1
  more = 1
end
local cmd = 'ZRANGE'
if ARGV[4] == '1' then cmd = 'ZREVRANGE' end
return {more, redis.call(cmd, KEYS[1], from, to, 'WITHSCORES')}`);

/** sortedset_basic: ZADD (INCR through a script that also answers the count), ZREM, ZSCORE, ZCARD. */
export function redisSortedSetBasic(conn: RedisConnection, keys: KeySpace): SortedSetBasicImpl {
  return {
    async add(req, ctx) {
      const key = zsetKey(keys, req.key);
      const flags: string[] = [];
      if (req.nx) flags.push('NX');
      if (req.xx) flags.push('XX');
      if (req.gt) flags.push('GT');
      if (req.lt) flags.push('LT');
      if (req.incr) {
        const e = req.entries[0]!;
        const reply = await conn
          .eval(ZADD_INCR, [key], [fmtScore(e.score), arg(e.member), ...flags], true, ctx)
          .catch(rethrowNaN);
        const [added, changed, after] = Array.isArray(reply) ? reply : [];
        const count = int(added) + (req.ch ? int(changed) : 0);
        return after === null || after === undefined
          ? { count: BigInt(count) }
          : { count: BigInt(count), score: parseScore(after) };
      }
      if (req.ch) flags.push('CH');
      const args = ['ZADD', key, ...flags] as (string | Buffer)[];
      for (const e of req.entries) args.push(fmtScore(e.score), arg(e.member));
      return { count: BigInt(int(await conn.call(args, false, ctx))) };
    },
    async remove(req, ctx) {
      const n = await conn.call(['ZREM', zsetKey(keys, req.key), ...req.members.map(arg)], false, ctx);
      return { removed: BigInt(int(n)) };
    },
    async score(req, ctx) {
      const reply = await conn.call(['ZSCORE', zsetKey(keys, req.key), arg(req.member)], true, ctx);
      return reply === null || reply === undefined
        ? { found: false }
        : { found: true, score: parseScore(reply) };
    },
    async card(req, ctx) {
      return { count: BigInt(int(await conn.call(['ZCARD', zsetKey(keys, req.key)], false, ctx))) };
    },
  };
}

const minArg = (b: ScoreBound | undefined) => (b ? `${b.exclusive ? '(' : ''}${fmtScore(b.value)}` : '-inf');
const maxArg = (b: ScoreBound | undefined) => (b ? `${b.exclusive ? '(' : ''}${fmtScore(b.value)}` : '+inf');

/** One page of ZRANGE … BYSCORE|BYLEX [REV] LIMIT: asks for one entry more than it answers, to know `more`. */
async function rangePage(
  conn: RedisConnection,
  key: string,
  by: 'BYSCORE' | 'BYLEX',
  min: string | Buffer,
  max: string | Buffer,
  req: { reverse: boolean; offset: number; limit: number },
  ctx: CallContext,
  scores: boolean,
) {
  const limit = effectiveLimit(req.limit);
  const args: (string | Buffer)[] = ['ZRANGE', key];
  // With REV, Redis takes the bounds as max, then min.
  if (req.reverse) args.push(max, min, by, 'REV');
  else args.push(min, max, by);
  args.push('LIMIT', String(req.offset), String(limit + 1));
  if (scores) args.push('WITHSCORES');
  const reply = await conn.call(args, true, ctx);
  return { reply, limit };
}

/** sortedset_range: ZRANGE … BYSCORE [REV] LIMIT, ZRANGE/ZREVRANGE by rank (a script), ZCOUNT. */
export function redisSortedSetRange(conn: RedisConnection, keys: KeySpace): SortedSetRangeImpl {
  return {
    async rangeByScore(req, ctx) {
      const key = zsetKey(keys, req.key);
      const { reply, limit } = await rangePage(
        conn,
        key,
        'BYSCORE',
        minArg(req.min),
        maxArg(req.max),
        req,
        ctx,
        true,
      );
      const entries = withScores(reply);
      return { entries: entries.slice(0, limit), more: entries.length > limit };
    },
    async rangeByRank(req, ctx) {
      const reply = await conn.eval(
        RANGE_BY_RANK,
        [zsetKey(keys, req.key)],
        [req.start.toString(), req.stop.toString(), String(MAX_RANGE_ENTRIES), req.reverse ? '1' : '0'],
        true,
        ctx,
      );
      const [more, flat] = Array.isArray(reply) ? reply : [];
      return { entries: withScores(flat), more: int(more) === 1 };
    },
    async countByScore(req, ctx) {
      const n = await conn.call(
        ['ZCOUNT', zsetKey(keys, req.key), minArg(req.min), maxArg(req.max)],
        false,
        ctx,
      );
      return { count: BigInt(int(n)) };
    },
  };
}

/** sortedset_rank: ZRANK / ZREVRANK. */
export function redisSortedSetRank(conn: RedisConnection, keys: KeySpace): SortedSetRankImpl {
  const rank = async (command: 'ZRANK' | 'ZREVRANK', key: string, member: Uint8Array, ctx: CallContext) => {
    const reply = await conn.call([command, zsetKey(keys, key), arg(member)], false, ctx);
    return reply === null || reply === undefined
      ? { found: false }
      : { found: true, rank: BigInt(int(reply)) };
  };
  return {
    rank: (req, ctx) => rank('ZRANK', req.key, req.member, ctx),
    revRank: (req, ctx) => rank('ZREVRANK', req.key, req.member, ctx),
  };
}

/** A lex bound as a Redis argument: `[m` / `(m`, or `-` / `+` when unbounded (binary-safe). */
const lexArg = (b: LexBound | undefined, unbounded: '-' | '+'): string | Buffer =>
  b ? Buffer.concat([Buffer.from(b.exclusive ? '(' : '['), arg(b.value)]) : unbounded;

/** sortedset_lex: ZRANGE … BYLEX [REV] LIMIT and ZLEXCOUNT. */
export function redisSortedSetLex(conn: RedisConnection, keys: KeySpace): SortedSetLexImpl {
  return {
    async rangeByLex(req, ctx) {
      const key = zsetKey(keys, req.key);
      const { reply, limit } = await rangePage(
        conn,
        key,
        'BYLEX',
        lexArg(req.min, '-'),
        lexArg(req.max, '+'),
        req,
        ctx,
        false,
      );
      const members = (Array.isArray(reply) ? reply : []).map(bytes);
      return { members: members.slice(0, limit), more: members.length > limit };
    },
    async lexCount(req, ctx) {
      const n = await conn.call(
        ['ZLEXCOUNT', zsetKey(keys, req.key), lexArg(req.min, '-'), lexArg(req.max, '+')],
        false,
        ctx,
      );
      return { count: BigInt(int(n)) };
    },
  };
}

/** `numkeys key… [WEIGHTS w…] AGGREGATE x` of ZUNION(STORE) / ZINTER(STORE). */
function sourceArgs(keys: KeySpace, req: { keys: string[]; weights: number[]; aggregate: number }): string[] {
  const args = [String(req.keys.length), ...req.keys.map((k) => zsetKey(keys, k))];
  if (req.weights.length > 0) args.push('WEIGHTS', ...req.weights.map(fmtScore));
  args.push('AGGREGATE', aggregateName(req.aggregate));
  return args;
}

/**
 * sortedset_operations: ZUNIONSTORE / ZINTERSTORE (atomic; Redis replaces the destination and deletes it
 * for an empty result) and ZUNION / ZINTER … WITHSCORES (Redis 6.2+), cut to the answer limit here: Redis
 * sends the whole result, so those cost what the full result costs.
 */
export function redisSortedSetOperations(conn: RedisConnection, keys: KeySpace): SortedSetOperationsImpl {
  const storeOp =
    (command: 'ZUNIONSTORE' | 'ZINTERSTORE') =>
    async (
      req: { destination: string; keys: string[]; weights: number[]; aggregate: number },
      ctx: CallContext,
    ) => {
      const args = [command, zsetKey(keys, req.destination), ...sourceArgs(keys, req)];
      return { count: BigInt(int(await conn.call(args, false, ctx))) };
    };
  const readOp =
    (command: 'ZUNION' | 'ZINTER') =>
    async (
      req: { keys: string[]; weights: number[]; aggregate: number; limit: number },
      ctx: CallContext,
    ) => {
      const reply = await conn.call([command, ...sourceArgs(keys, req), 'WITHSCORES'], true, ctx);
      const limit = effectiveLimit(req.limit);
      const entries = withScores(reply, limit + 1);
      return { entries: entries.slice(0, limit), more: entries.length > limit };
    };
  return {
    unionStore: storeOp('ZUNIONSTORE'),
    intersectStore: storeOp('ZINTERSTORE'),
    union: readOp('ZUNION'),
    intersect: readOp('ZINTER'),
  };
}
