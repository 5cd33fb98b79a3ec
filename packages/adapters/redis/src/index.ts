import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import { definePlugin, implement } from '@prism/sdk';
import { RedisConfig } from './config.js';
import { RedisConnection } from './connection.js';
import { KeySpace } from './keys.js';
import { redisBasic, redisBatch, redisCAS, redisTTL } from './kv.js';
import { redisList } from './list.js';
import { redisScan } from './scan.js';
import { redisTransactional } from './transact.js';

export { RedisConfig } from './config.js';
export { escapeGlob, KeySpace } from './keys.js';

/** The Redis backend: one node-redis connection per namespace, keys under `<namespace>:`. */
export default definePlugin({
  name: 'redis',
  version: '0.1.0',
  description: 'Redis (node-redis): key/value with TTL, scan, batch, CAS and transactions; lists',
  interfaces: [
    KeyValueBasic,
    KeyValueTTL,
    KeyValueScan,
    KeyValueBatch,
    KeyValueCAS,
    KeyValueTransactional,
    ListBasic,
  ],
  configSchema: RedisConfig,
  create(config, ctx) {
    const conn = new RedisConnection(config, ctx.namespace, ctx.logger, ctx.metrics);
    const keys = new KeySpace(config.key_prefix ?? `${ctx.namespace}:`);
    return {
      bindings: [
        implement(KeyValueBasic, redisBasic(conn, keys)),
        implement(KeyValueTTL, redisTTL(conn, keys)),
        implement(KeyValueScan, redisScan(conn, keys)),
        implement(KeyValueBatch, redisBatch(conn, keys)),
        implement(KeyValueCAS, redisCAS(conn, keys)),
        implement(KeyValueTransactional, redisTransactional(conn, keys)),
        implement(ListBasic, redisList(conn, keys)),
      ],
      start: () => conn.start(),
      health: () => conn.health(),
      close: () => conn.close(),
    };
  },
});
