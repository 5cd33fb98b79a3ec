import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { ListBasic } from '@prism/list-basic';
import { ListBlocking } from '@prism/list-blocking';
import { ListIndexing } from '@prism/list-indexing';
import { ListRange } from '@prism/list-range';
import { PubSubBasic } from '@prism/pubsub-basic';
import { PubSubWildcards } from '@prism/pubsub-wildcards';
import { QueueBasic } from '@prism/queue-basic';
import { QueueDeadLetter } from '@prism/queue-dead-letter';
import { QueueDelayed } from '@prism/queue-delayed';
import { QueuePriority } from '@prism/queue-priority';
import { QueueVisibility } from '@prism/queue-visibility';
import { definePlugin, endpointId, type Isolation, implement } from '@prism/sdk';
import { SetBasic } from '@prism/set-basic';
import { SetCardinality } from '@prism/set-cardinality';
import { SetOperations } from '@prism/set-operations';
import { SetRandom } from '@prism/set-random';
import { SortedSetBasic } from '@prism/sortedset-basic';
import { SortedSetLex } from '@prism/sortedset-lex';
import { SortedSetOperations } from '@prism/sortedset-operations';
import { SortedSetRange } from '@prism/sortedset-range';
import { SortedSetRank } from '@prism/sortedset-rank';
import { StreamBasic } from '@prism/stream-basic';
import { StreamConsumerGroups } from '@prism/stream-consumer-groups';
import { StreamReplay } from '@prism/stream-replay';
import { StreamRetention } from '@prism/stream-retention';
import { RedisConfig } from './config.js';
import { RedisConnection } from './connection.js';
import { RedisGroups } from './groups.js';
import { KeySpace } from './keys.js';
import { redisBasic, redisBatch, redisCAS, redisTTL } from './kv.js';
import { redisList, redisListIndexing, redisListRange } from './list.js';
import { RedisListBlocking } from './list-blocking.js';
import { RedisPubSub } from './pubsub.js';
import { RedisQueues } from './queue.js';
import { redisScan } from './scan.js';
import { redisSetBasic, redisSetCardinality, redisSetOperations, redisSetRandom } from './set.js';
import {
  redisSortedSetBasic,
  redisSortedSetLex,
  redisSortedSetOperations,
  redisSortedSetRange,
  redisSortedSetRank,
} from './sortedset.js';
import { redisStreamRetention } from './stream-retention.js';
import { RedisStreams } from './streams.js';
import { redisTransactional } from './transact.js';

export { RedisConfig } from './config.js';
export { escapeGlob, KeySpace } from './keys.js';

/** The Redis backend: one node-redis connection per namespace, keys under `<namespace>:`. */
export default definePlugin({
  name: 'redis',
  version: '0.1.0',
  description:
    'Redis (node-redis): key/value with TTL, scan, batch, CAS and transactions; lists, sets and sorted sets; streams with retention; priority work queues',
  interfaces: [
    KeyValueBasic,
    KeyValueTTL,
    KeyValueScan,
    KeyValueBatch,
    KeyValueCAS,
    KeyValueTransactional,
    ListBasic,
    ListIndexing,
    ListRange,
    ListBlocking,
    SetBasic,
    SetOperations,
    SetCardinality,
    SetRandom,
    SortedSetBasic,
    SortedSetRange,
    SortedSetRank,
    SortedSetOperations,
    SortedSetLex,
    PubSubBasic,
    PubSubWildcards,
    StreamBasic,
    StreamReplay,
    StreamConsumerGroups,
    StreamRetention,
    QueueBasic,
    QueuePriority,
    QueueVisibility,
    QueueDelayed,
    QueueDeadLetter,
  ],
  omitted: {
    pubsub_persistent:
      'Redis pub/sub keeps nothing for an absent subscriber; durable delivery on Redis is Redis Streams (stream_consumer_groups)',
    pubsub_filtering:
      'not in this version: Redis pub/sub carries no metadata of its own, so the filter would run in the adapter on an envelope, as on NATS',
    pubsub_ordering:
      'not in this version: one channel delivers in publish order, but ordering keys are not routed yet',
    stream_partitioning:
      'not in this version: a partition would be one Redis stream each, with keys routed by murmur2 as on Kafka',
  },
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
    const listBlocking = new RedisListBlocking(conn, keys, ctx.logger);
    const queues = new RedisQueues(conn, keys, ctx.logger);
    return {
      bindings: [
        implement(KeyValueBasic, redisBasic(conn, keys)),
        implement(KeyValueTTL, redisTTL(conn, keys)),
        implement(KeyValueScan, redisScan(conn, keys, ctx.limits)),
        implement(KeyValueBatch, redisBatch(conn, keys)),
        implement(KeyValueCAS, redisCAS(conn, keys)),
        implement(KeyValueTransactional, redisTransactional(conn, keys)),
        implement(ListBasic, redisList(conn, keys)),
        implement(ListIndexing, redisListIndexing(conn, keys)),
        implement(ListRange, redisListRange(conn, keys)),
        implement(ListBlocking, listBlocking.impl()),
        implement(SetBasic, redisSetBasic(conn, keys)),
        implement(SetOperations, redisSetOperations(conn, keys)),
        implement(SetCardinality, redisSetCardinality(conn, keys)),
        implement(SetRandom, redisSetRandom(conn, keys)),
        implement(SortedSetBasic, redisSortedSetBasic(conn, keys)),
        implement(SortedSetRange, redisSortedSetRange(conn, keys)),
        implement(SortedSetRank, redisSortedSetRank(conn, keys)),
        implement(SortedSetOperations, redisSortedSetOperations(conn, keys)),
        implement(SortedSetLex, redisSortedSetLex(conn, keys)),
        implement(PubSubBasic, pubsub.basic()),
        implement(PubSubWildcards, pubsub.wildcards()),
        implement(StreamBasic, streams.basic()),
        implement(StreamReplay, streams.replay()),
        implement(StreamConsumerGroups, new RedisGroups(conn, keys, ctx.logger).impl()),
        implement(StreamRetention, redisStreamRetention(conn, keys)),
        implement(QueueBasic, queues.basic()),
        implement(QueuePriority, queues.priority()),
        implement(QueueVisibility, queues.visibility()),
        implement(QueueDelayed, queues.delayed()),
        implement(QueueDeadLetter, queues.deadLetter()),
      ],
      start: () => conn.start(),
      health: () => conn.health(),
      close: async () => {
        await pubsub.close();
        listBlocking.close();
        await queues.close();
        await conn.close();
      },
    };
  },
});
