// stream_retention on Redis Streams: the policy is a hash `<prefix>\0sr\0<stream>` (fields `age` ms and
// `count`), applied atomically by the append script (XADD, then XTRIM MAXLEN = count and XTRIM MINID
// now-age, both exact), by SetRetention and by TrimStream. Redis trims streams by entry count or id only, so
// max_bytes is not expressible and is rejected.
import type { CallContext } from '@prism/sdk';
import { RetentionEnforcement, type StreamRetentionImpl, unsupportedLimit } from '@prism/stream-retention';
import { type RedisConnection, type Reply, script } from './connection.js';
import type { KeySpace } from './keys.js';
import { str } from './kv.js';
import { idToOffset, offsetToId, streamKey } from './streams.js';

/** Redis key of a stream's retention policy. */
export const retentionKey = (keys: KeySpace, stream: string): string =>
  `${keys.prefix}\u0000sr\u0000${stream}`;

/** Lua: applies the policy in KEYS[2] to the stream KEYS[1]; returns the number of entries removed. */
const APPLY = `
local function apply(stream, policy)
  local p = redis.call('HMGET', policy, 'age', 'count')
  local removed = 0
  if p[2] then removed = removed + redis.call('XTRIM', stream, 'MAXLEN', '=', p[2]) end
  if p[1] then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    removed = removed + redis.call('XTRIM', stream, 'MINID', '=', string.format('%d-0', now - tonumber(p[1])))
  end
  return removed
end
`;

/** XADD KEYS[1] * ARGV... then the policy of KEYS[2]; returns the new entry id. */
export const APPEND_RETAINED = script(`${APPLY}
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV))
apply(KEYS[1], KEYS[2])
return id`);

/** Replaces the policy (ARGV: age ms, count; '0' = none) and applies it. */
const SET_POLICY = script(`${APPLY}
redis.call('DEL', KEYS[2])
if ARGV[1] ~= '0' then redis.call('HSET', KEYS[2], 'age', ARGV[1]) end
if ARGV[2] ~= '0' then redis.call('HSET', KEYS[2], 'count', ARGV[2]) end
return apply(KEYS[1], KEYS[2])`);

/**
 * Applies the policy, then trims by ARGV: min id ('' = none), keep_last ('0' = none), min timestamp ms
 * ('0' = none). Returns {removed, remaining, first id or ''}.
 */
const TRIM = script(`${APPLY}
local removed = apply(KEYS[1], KEYS[2])
if ARGV[1] ~= '' then removed = removed + redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[1]) end
if ARGV[2] ~= '0' then removed = removed + redis.call('XTRIM', KEYS[1], 'MAXLEN', '=', ARGV[2]) end
if ARGV[3] ~= '0' then removed = removed + redis.call('XTRIM', KEYS[1], 'MINID', '=', ARGV[3] .. '-0') end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local id = ''
if first[1] then id = first[1][1] end
return {removed, redis.call('XLEN', KEYS[1]), id}`);

/** Redis counts and lengths are signed 64-bit. */
const MAX_I64 = (1n << 63n) - 1n;
const clamp = (n: bigint) => (n > MAX_I64 ? MAX_I64 : n).toString();

/** stream_retention over Redis Streams. */
export function redisStreamRetention(conn: RedisConnection, keys: KeySpace): StreamRetentionImpl {
  const k = (stream: string) => [streamKey(keys, stream), retentionKey(keys, stream)];
  const get = async (stream: string, ctx: CallContext) => {
    const reply = await conn.call(['HMGET', retentionKey(keys, stream), 'age', 'count'], false, ctx);
    const [age, count] = Array.isArray(reply) ? reply : [];
    return {
      maxAgeMs: age === null || age === undefined ? 0n : BigInt(str(age)),
      maxRecords: count === null || count === undefined ? 0n : BigInt(str(count)),
      maxBytes: 0n,
    };
  };
  return {
    setRetention: async (req, ctx) => {
      const p = req.policy!;
      if (p.maxBytes > 0n)
        throw unsupportedLimit('maxBytes', 'redis', 'Redis trims streams by entry count or entry id only');
      await conn.eval(SET_POLICY, k(req.stream), [p.maxAgeMs.toString(), clamp(p.maxRecords)], false, ctx);
      return { policy: await get(req.stream, ctx) };
    },
    getRetention: async (req, ctx) => ({
      policy: await get(req.stream, ctx),
      supported: {
        maxAgeMs: true,
        maxRecords: true,
        maxBytes: false,
        enforcement: RetentionEnforcement.ON_WRITE,
      },
    }),
    trimStream: async (req, ctx) => {
      const reply = (await conn.eval(
        TRIM,
        k(req.stream),
        [
          req.beforeOffset > 0n ? offsetToId(req.beforeOffset) : '',
          clamp(req.keepLast),
          req.beforeTimestampMs.toString(),
        ],
        false,
        ctx,
      )) as Reply[];
      const id = str(reply[2]);
      return {
        removed: BigInt(reply[0] as number),
        remaining: BigInt(reply[1] as number),
        firstOffset: id ? idToOffset(id) : 0n,
        firstMessageId: id,
      };
    },
  };
}
