import type { ListBasicImpl } from '@prism/list-basic';
import type { RedisConnection, Reply } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, bytes, int } from './kv.js';

const popped = (reply: Reply) =>
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
