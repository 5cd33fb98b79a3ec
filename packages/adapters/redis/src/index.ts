import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { definePlugin, endpointId, type Isolation, implement } from '@prism/sdk';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';
import { RedisConfig } from './config.js';
import { RedisConnection } from './connection.js';
import { RedisGroups } from './groups.js';
import { KeySpace } from './keys.js';
import { redisBasic, redisBatch, redisCAS, redisTTL } from './kv.js';
import { redisList } from './list.js';
import { RedisPubSub } from './pubsub.js';
import { redisScan } from './scan.js';
import { RedisStreams } from './streams.js';
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
    PubSubBasic,
    PubSubWildcards,
    StreamBasic,
    StreamReplay,
    StreamConsumerGroups,
  ],
  configSchema: RedisConfig,
  /**
   * Keys live under the key prefix in the selected database; pub/sub channels (`<prefix>\0t\0<topic>`)
   * are server-wide, so equal prefixes collide there even in different databases. Prefixes cannot contain
   * NUL, so different prefixes never share a channel.
   */
  isolation(config, namespace): Isolation | undefined {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      return undefined;
    }
    const db = config.database ?? (Number(url.pathname.slice(1)) || 0);
    const prefix = config.key_prefix ?? `${namespace}:`;
    const field = config.key_prefix === undefined ? {} : { field: 'key_prefix' };
    return {
      endpoints: [endpointId(url.hostname, url.port || 6379)],
      scopes: [
        { kind: `keys in database ${db}`, value: prefix, ...field },
        { kind: 'pub/sub channels (server-wide)', value: prefix, match: 'exact', ...field },
      ],
    };
  },
  create(config, ctx) {
    const conn = new RedisConnection(config, ctx.namespace, ctx.logger, ctx.metrics);
    const keys = new KeySpace(config.key_prefix ?? `${ctx.namespace}:`);
    const pubsub = new RedisPubSub(conn, keys, ctx.metrics, ctx.logger);
    const streams = new RedisStreams(conn, keys, ctx.logger);
    return {
      bindings: [
        implement(KeyValueBasic, redisBasic(conn, keys)),
        implement(KeyValueTTL, redisTTL(conn, keys)),
        implement(KeyValueScan, redisScan(conn, keys, ctx.limits)),
        implement(KeyValueBatch, redisBatch(conn, keys)),
        implement(KeyValueCAS, redisCAS(conn, keys)),
        implement(KeyValueTransactional, redisTransactional(conn, keys)),
        implement(ListBasic, redisList(conn, keys)),
        implement(PubSubBasic, pubsub.basic()),
        implement(PubSubWildcards, pubsub.wildcards()),
        implement(StreamBasic, streams.basic()),
        implement(StreamReplay, streams.replay()),
        implement(StreamConsumerGroups, new RedisGroups(conn, keys, ctx.logger).impl()),
      ],
      start: () => conn.start(),
      health: () => conn.health(),
      close: async () => {
        await pubsub.close();
        await conn.close();
      },
    };
  },
});
