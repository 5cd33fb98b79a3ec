import { definePlugin, endpointId, healthy, type Isolation, unhealthy } from '@prism/sdk';
import { PgClient } from './client.js';
import { DOCUMENT_INTERFACES, documents } from './document.js';
import { GRAPH_INTERFACES, graphs } from './graph.js';
import { KV_INTERFACES, keyValue } from './kv.js';
import { LIST_INTERFACES, lists } from './list.js';
import { MESSAGING_INTERFACES, messaging } from './messaging.js';
import { PostgresPluginConfig } from './messaging-config.js';
import { SET_INTERFACES, sets } from './set.js';
import { SORTED_SET_INTERFACES, sortedSets } from './sortedset.js';
import { TIMESERIES_INTERFACES, timeSeries } from './timeseries.js';

export { PostgresConfig } from './config.js';
export { PostgresPluginConfig } from './messaging-config.js';

/**
 * The PostgreSQL backend. One pool per namespace (PgClient); each data model lives in its own module
 * (key/value in kv*.ts, queues and pub/sub in messaging.ts) and contributes its interfaces, bindings and
 * start-up step here.
 */
export default definePlugin({
  name: 'postgres',
  version: '0.1.0',
  description:
    'PostgreSQL (postgres.js): key/value with TTL and ordered scans, lists, sets and sorted sets, time series partitioned by day, graphs with recursive-CTE traversals, JSONB documents with expression indexes, SKIP LOCKED work queues and LISTEN/NOTIFY pub/sub on a shared database',
  interfaces: [
    ...KV_INTERFACES,
    ...SET_INTERFACES,
    ...SORTED_SET_INTERFACES,
    ...LIST_INTERFACES,
    ...MESSAGING_INTERFACES,
    ...DOCUMENT_INTERFACES,
    ...TIMESERIES_INTERFACES,
    ...GRAPH_INTERFACES,
  ],
  omitted: {
    graph_query:
      'Gremlin only: PostgreSQL has no Gremlin engine; its traversals are graph_traversal (recursive CTEs) and graph_analytics',
    list_indexing:
      'not in this version: positions are dense per list, so an index is a lookup, but insert and remove by value renumber rows and are not written yet',
    list_range: 'not in this version: a range is an ordered index scan on (key, pos), not written yet',
    list_blocking:
      'not in this version: a blocking pop would wait on LISTEN/NOTIFY as the queues do, not written yet',
    pubsub_persistent:
      'LISTEN/NOTIFY keeps nothing for a disconnected subscriber; durable delivery on PostgreSQL is the SKIP LOCKED queue (queue_basic)',
    pubsub_filtering: 'not in this version: the filter would run in the adapter on each NOTIFY, as on NATS',
    pubsub_ordering:
      'not in this version: NOTIFY delivers in commit order per channel, but ordering keys are not routed yet',
    queue_priority:
      'not in this version: a priority column in the SKIP LOCKED ordering index would do it, not written yet',
  },
  configSchema: PostgresPluginConfig,
  /** Every table of the schema keys its rows by the namespace name (`namespace` leads each primary key). */
  isolation(config, namespace): Isolation | undefined {
    let url: URL | undefined;
    try {
      url = config.url ? new URL(config.url) : undefined;
    } catch {
      return undefined;
    }
    const host = config.host ?? (url?.hostname || 'localhost');
    const port = config.port ?? (Number(url?.port) || 5432);
    const database =
      config.database ??
      (decodeURIComponent(url?.pathname.slice(1) ?? '') || config.user || url?.username || '');
    return {
      endpoints: [`${endpointId(host, port)}/${database}`],
      scopes: [{ kind: `rows of schema "${config.schema}"`, value: namespace, match: 'exact' }],
    };
  },
  create(config, ctx) {
    const client = new PgClient(config, ctx.namespace, ctx.logger);
    const kv = keyValue(client, ctx.limits);
    const msg = messaging(client, config, ctx);
    const set = sets(client);
    const zset = sortedSets(client);
    const list = lists(client);
    const docs = documents(client, ctx.limits);
    const ts = timeSeries(client, { retentionIntervalMs: config.timeseries_retention_interval_ms });
    const graph = graphs(client, { maxTraversalDepth: config.max_traversal_depth });
    return {
      bindings: [
        ...kv.bindings,
        ...set.bindings,
        ...zset.bindings,
        ...list.bindings,
        ...msg.bindings,
        ...docs.bindings,
        ...ts.bindings,
        ...graph.bindings,
      ],
      async start() {
        try {
          await kv.start();
          await set.start();
          await zset.start();
          await list.start();
          await docs.start();
          await ts.start();
          await graph.start();
          await msg.start();
        } catch (err) {
          throw client.startError(err);
        }
      },
      async health() {
        try {
          await client.run(client.sql`SELECT 1`);
          return healthy({
            target: client.target,
            schema: config.schema,
            pool_size: String(config.pool_size),
            ...msg.status(),
          });
        } catch (err) {
          return unhealthy(err instanceof Error ? err.message : String(err), { target: client.target });
        }
      },
      async close() {
        await msg.close();
        await client.close();
      },
    };
  },
});
