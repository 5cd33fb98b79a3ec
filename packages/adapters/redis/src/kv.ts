import type { KeyValueBasicImpl } from '@prism/keyvalue-basic';
import { batchDeleteFlags, type KeyValueBatchImpl } from '@prism/keyvalue-batch';
import { etagMismatch, type KeyValueCASImpl, keyExists, newEtag } from '@prism/keyvalue-cas';
import type { KeyValueTTLImpl } from '@prism/keyvalue-ttl';
import { internal } from '@prism/sdk';
import type { RedisConnection, Reply } from './connection.js';
import type { KeySpace } from './keys.js';
import {
  BATCH_DELETE,
  BATCH_SET,
  CAS_DELETE,
  CAS_SET,
  DELETE,
  EXPIRE,
  GET_VERSIONED,
  SET,
} from './scripts.js';

/** A request value as a Redis argument, without copying. */
export const arg = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** A binary reply as a plain Uint8Array view (protobuf-es and tests expect Uint8Array, not Buffer). */
export function bytes(reply: Reply): Uint8Array {
  if (Buffer.isBuffer(reply)) return new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength);
  if (typeof reply === 'string') return new TextEncoder().encode(reply);
  return new Uint8Array();
}

/** An integer reply as a number. */
export function int(reply: Reply): number {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'bigint') return Number(reply);
  if (typeof reply === 'string' || Buffer.isBuffer(reply)) return Number(reply.toString());
  throw internal(`unexpected Redis reply ${JSON.stringify(reply)} where an integer was expected`);
}

/** A string reply (status or bulk). */
export function str(reply: Reply): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** keyvalue_basic on Redis strings: SET/GET/DEL/EXISTS (writes also drop the etag). */
export function redisBasic(conn: RedisConnection, keys: KeySpace): KeyValueBasicImpl {
  return {
    async set(req, ctx) {
      await conn.eval(SET, [keys.value(req.key), keys.etag(req.key)], [arg(req.value), '0'], false, ctx);
      return {};
    },
    async get(req, ctx) {
      const reply = await conn.call(['GET', keys.value(req.key)], true, ctx);
      return reply === null || reply === undefined ? { found: false } : { found: true, value: bytes(reply) };
    },
    async delete(req, ctx) {
      const n = await conn.eval(DELETE, [keys.value(req.key), keys.etag(req.key)], [], false, ctx);
      return { deleted: int(n) === 1 };
    },
    async exists(req, ctx) {
      return { exists: int(await conn.call(['EXISTS', keys.value(req.key)], false, ctx)) === 1 };
    },
  };
}

/** keyvalue_ttl with native Redis expiry: SET PX, PEXPIRE, PTTL, PERSIST. */
export function redisTTL(conn: RedisConnection, keys: KeySpace): KeyValueTTLImpl {
  return {
    async setWithTTL(req, ctx) {
      await conn.eval(
        SET,
        [keys.value(req.key), keys.etag(req.key)],
        [arg(req.value), req.ttlMs.toString()],
        false,
        ctx,
      );
      return {};
    },
    async expire(req, ctx) {
      const n = await conn.eval(
        EXPIRE,
        [keys.value(req.key), keys.etag(req.key)],
        [req.ttlMs.toString()],
        false,
        ctx,
      );
      return { applied: int(n) === 1 };
    },
    async getTTL(req, ctx) {
      // PTTL: -2 missing, -1 no TTL, else remaining milliseconds.
      const ms = int(await conn.call(['PTTL', keys.value(req.key)], false, ctx));
      if (ms === -2) return { exists: false, hasTtl: false, ttlMs: 0n };
      if (ms === -1) return { exists: true, hasTtl: false, ttlMs: 0n };
      return { exists: true, hasTtl: true, ttlMs: BigInt(Math.max(ms, 1)) };
    },
    async persist(req, ctx) {
      const n = await conn.eval(EXPIRE, [keys.value(req.key), keys.etag(req.key)], [], false, ctx);
      return { applied: int(n) === 1 };
    },
  };
}

/** keyvalue_batch: MSET (atomic) / MGET (one snapshot) / DEL in one script, one round trip each. */
export function redisBatch(conn: RedisConnection, keys: KeySpace): KeyValueBatchImpl {
  return {
    async batchSet(req, ctx) {
      if (req.entries.length === 0) return { count: 0 };
      const valueKeys = req.entries.map((e) => keys.value(e.key));
      const etagKeys = req.entries.map((e) => keys.etag(e.key));
      await conn.eval(
        BATCH_SET,
        [...valueKeys, ...etagKeys],
        req.entries.map((e) => arg(e.value)),
        false,
        ctx,
      );
      return { count: req.entries.length };
    },
    async batchGet(req, ctx) {
      if (req.keys.length === 0) return { entries: [] };
      const reply = await conn.call(['MGET', ...req.keys.map((k) => keys.value(k))], true, ctx);
      const values = Array.isArray(reply) ? reply : [];
      return {
        entries: req.keys.map((key, i) => {
          const v = values[i];
          return v === null || v === undefined
            ? { key, found: false }
            : { key, found: true, value: bytes(v) };
        }),
      };
    },
    async batchDelete(req, ctx) {
      if (req.keys.length === 0) return { deleted: [], deletedCount: 0 };
      const distinct = [...new Set(req.keys)];
      const reply = await conn.eval(
        BATCH_DELETE,
        [...distinct.map((k) => keys.value(k)), ...distinct.map((k) => keys.etag(k))],
        [],
        false,
        ctx,
      );
      const flags = Array.isArray(reply) ? reply : [];
      const existed = new Set(distinct.filter((_, i) => int(flags[i]) === 1));
      const deleted = batchDeleteFlags(req.keys, existed);
      return { deleted, deletedCount: deleted.filter(Boolean).length };
    },
  };
}

/** keyvalue_cas: etags stored beside the value, minted lazily, compared inside Lua scripts. */
export function redisCAS(conn: RedisConnection, keys: KeySpace): KeyValueCASImpl {
  return {
    async getVersioned(req, ctx) {
      const reply = await conn.eval(
        GET_VERSIONED,
        [keys.value(req.key), keys.etag(req.key)],
        [newEtag()],
        true,
        ctx,
      );
      if (!Array.isArray(reply)) return { found: false, etag: '' };
      return { found: true, value: bytes(reply[0]), etag: str(reply[1]) };
    },
    async compareAndSet(req, ctx) {
      const mode = req.createOnly ? 'create' : req.expectedEtag ? 'etag' : 'any';
      const etag = newEtag();
      const outcome = str(
        await conn.eval(
          CAS_SET,
          [keys.value(req.key), keys.etag(req.key)],
          [mode, req.expectedEtag, arg(req.value), etag],
          false,
          ctx,
        ),
      );
      if (outcome === 'EXISTS') throw keyExists(req.key);
      if (outcome === 'MISSING') throw etagMismatch(req.key, false);
      if (outcome === 'MISMATCH') throw etagMismatch(req.key, true);
      return { etag };
    },
    async compareAndDelete(req, ctx) {
      const outcome = str(
        await conn.eval(
          CAS_DELETE,
          [keys.value(req.key), keys.etag(req.key)],
          [req.expectedEtag],
          false,
          ctx,
        ),
      );
      if (outcome === 'MISSING') throw etagMismatch(req.key, false);
      if (outcome === 'MISMATCH') throw etagMismatch(req.key, true);
      return {};
    },
  };
}
