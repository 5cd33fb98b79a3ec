import { script } from './connection.js';

// Lua scripts run atomically in Redis. Convention: KEYS[1] is a value key, KEYS[2] its etag key.
// Every write deletes the etag key, so the next GetVersioned mints a new etag (see keys.ts).

/** SET (optionally with PX) and invalidate the etag. ARGV: value, ttl_ms ('0' = none). */
export const SET = script(`
if ARGV[2] ~= '0' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('DEL', KEYS[2])
return 1`);

/** DEL a key and its etag; returns 1 when the key existed. */
export const DELETE = script(`
local n = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
return n`);

/** PEXPIRE (ARGV[1] ms) or PERSIST (no ARGV); invalidates the etag when applied. */
export const EXPIRE = script(`
local n
if ARGV[1] then n = redis.call('PEXPIRE', KEYS[1], ARGV[1]) else n = redis.call('PERSIST', KEYS[1]) end
if n == 1 then redis.call('DEL', KEYS[2]) end
return n`);

/** MSET KEYS[1..n] = ARGV[1..n] (atomic, last wins) and delete the etags KEYS[n+1..2n]. */
export const BATCH_SET = script(`
local n = #ARGV
local args = {}
for i = 1, n do args[2 * i - 1] = KEYS[i]; args[2 * i] = ARGV[i] end
redis.call('MSET', unpack(args))
redis.call('DEL', unpack(KEYS, n + 1, 2 * n))
return n`);

/** DEL distinct KEYS[1..n] with their etags KEYS[n+1..2n]; returns 1/0 per key. */
export const BATCH_DELETE = script(`
local n = #KEYS / 2
local res = {}
for i = 1, n do res[i] = redis.call('DEL', KEYS[i]) end
redis.call('DEL', unpack(KEYS, n + 1, 2 * n))
return res`);

/**
 * GetVersioned: value and etag, minting the etag (ARGV[1]) with the key's remaining TTL when absent.
 * Returns nil for a missing key.
 */
export const GET_VERSIONED = script(`
local v = redis.call('GET', KEYS[1])
if not v then return nil end
local e = redis.call('GET', KEYS[2])
if not e then
  e = ARGV[1]
  local pttl = redis.call('PTTL', KEYS[1])
  if pttl > 0 then redis.call('SET', KEYS[2], e, 'PX', pttl) else redis.call('SET', KEYS[2], e) end
end
return {v, e}`);

/**
 * CompareAndSet. ARGV: mode ('etag' | 'create' | 'any'), expected etag, value, new etag.
 * Returns 'OK', 'EXISTS' (create-only hit a key), 'MISSING' or 'MISMATCH'.
 */
export const CAS_SET = script(`
local mode = ARGV[1]
if mode == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
elseif mode == 'etag' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'MISMATCH' end
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
return 'OK'`);

/** CompareAndDelete. ARGV: expected etag. Returns 'OK', 'MISSING' or 'MISMATCH'. */
export const CAS_DELETE = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 'MISMATCH' end
redis.call('DEL', KEYS[1], KEYS[2])
return 'OK'`);

/**
 * Transact. KEYS: (value, etag) per condition, then per operation. ARGV: #conditions, #operations,
 * then per condition its check ('x' exists, 'n' absent, 'e' etag, 'v' value) and argument, then per
 * operation its kind ('s' set, 'd' delete), value and ttl_ms. All conditions are checked before any
 * write, so a failure changes nothing: returns {0, index}. Success: {1, existed per operation...}.
 */
export const TRANSACT = script(`
local nc = tonumber(ARGV[1])
local no = tonumber(ARGV[2])
local a = 3
for i = 1, nc do
  local k = KEYS[2 * i - 1]
  local t = ARGV[a]
  local arg = ARGV[a + 1]
  a = a + 2
  local ok
  if t == 'x' then ok = redis.call('EXISTS', k) == 1
  elseif t == 'n' then ok = redis.call('EXISTS', k) == 0
  elseif t == 'e' then ok = redis.call('EXISTS', k) == 1 and redis.call('GET', KEYS[2 * i]) == arg
  else ok = redis.call('GET', k) == arg end
  if not ok then return {0, i - 1} end
end
local res = {1}
local base = 2 * nc
for j = 1, no do
  local k = KEYS[base + 2 * j - 1]
  local t = ARGV[a]
  local v = ARGV[a + 1]
  local ttl = ARGV[a + 2]
  a = a + 3
  res[j + 1] = redis.call('EXISTS', k)
  if t == 's' then
    if ttl ~= '0' then redis.call('SET', k, v, 'PX', ttl) else redis.call('SET', k, v) end
  else
    redis.call('DEL', k)
  end
  redis.call('DEL', KEYS[base + 2 * j])
end
return res`);
