import { conditionFailed, type KeyValueTransactionalImpl } from '@prism/keyvalue-transactional';
import { internal } from '@prism/sdk';
import type { RedisConnection } from './connection.js';
import type { KeySpace } from './keys.js';
import { arg, int } from './kv.js';
import { TRANSACT } from './scripts.js';

/**
 * keyvalue_transactional as one Lua script: Redis runs it atomically (no other command interleaves),
 * every condition is checked before the first write, and no write inside can fail on a string key, so
 * the transaction is all or nothing.
 */
export function redisTransactional(conn: RedisConnection, keys: KeySpace): KeyValueTransactionalImpl {
  return {
    async transact(req, ctx) {
      const scriptKeys: string[] = [];
      const args: (string | Buffer)[] = [String(req.conditions.length), String(req.operations.length)];
      for (const c of req.conditions) {
        scriptKeys.push(keys.value(c.key), keys.etag(c.key));
        switch (c.check.case) {
          case 'exists':
            args.push(c.check.value ? 'x' : 'n', '');
            break;
          case 'etag':
            args.push('e', c.check.value);
            break;
          case 'value':
            args.push('v', arg(c.check.value));
            break;
          default:
            throw internal('condition without check passed validation');
        }
      }
      for (const op of req.operations) {
        if (op.kind.case === 'set') {
          const { key, value, ttlMs } = op.kind.value;
          scriptKeys.push(keys.value(key), keys.etag(key));
          args.push('s', arg(value), ttlMs.toString());
        } else if (op.kind.case === 'delete') {
          scriptKeys.push(keys.value(op.kind.value.key), keys.etag(op.kind.value.key));
          args.push('d', '', '0');
        } else throw internal('operation without kind passed validation');
      }
      const reply = await conn.eval(TRANSACT, scriptKeys, args, false, ctx);
      const [status, ...rest] = Array.isArray(reply) ? reply : [];
      if (int(status) === 0) {
        const index = int(rest[0]);
        throw conditionFailed(index, req.conditions[index]!);
      }
      return { results: rest.map((existed) => ({ existed: int(existed) === 1 })) };
    },
  };
}
