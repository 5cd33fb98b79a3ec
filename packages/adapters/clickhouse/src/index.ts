import { definePlugin, endpointId, healthy, type Isolation, unhealthy } from '@prism/sdk';
import { ChClient, namespaceTables } from './client.js';
import { ClickHouseConfig, PARTITION_NS } from './config.js';
import { TIMESERIES_INTERFACES, timeSeries } from './timeseries.js';

export { ChClient, namespaceTables } from './client.js';
export { ClickHouseConfig } from './config.js';

/**
 * The ClickHouse backend (@clickhouse/client over HTTP, tested against Debian's clickhouse-server 18.16):
 * time series in one ReplacingMergeTree table per namespace, partitioned by time, with aggregation pushed
 * down to SQL.
 */
export default definePlugin({
  name: 'clickhouse',
  version: '0.1.0',
  description:
    'ClickHouse (@clickhouse/client over HTTP): time series with idempotent writes (ReplacingMergeTree), aggregation in SQL, retention by dropped partitions, interpolation',
  interfaces: [...TIMESERIES_INTERFACES],
  configSchema: ClickHouseConfig,
  /** Each namespace has its own tables (name derived from the namespace: slug + SHA-256 prefix). */
  isolation(config, namespace): Isolation | undefined {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      return undefined;
    }
    const port = url.port || (url.protocol === 'https:' ? '8443' : '8123');
    const tables = namespaceTables(config, namespace);
    return {
      endpoints: [`${endpointId(url.hostname, port)}/${config.database}`],
      scopes: [{ kind: 'tables', value: `${tables.points},${tables.meta}`, match: 'exact' }],
    };
  },
  create(config, ctx) {
    const client = new ChClient(config, ctx.namespace, ctx.logger);
    const ts = timeSeries(client, {
      retentionCheckIntervalMs: config.retention_check_interval_ms,
      partitionNs: PARTITION_NS[config.partition],
      mutationTimeoutMs: config.request_timeout_ms,
    });
    return {
      bindings: ts.bindings,
      start: () => ts.start(),
      async health() {
        try {
          await client.rows(ChClient.ping);
          return healthy({ target: client.target, database: config.database, table: client.tables.points });
        } catch (err) {
          return unhealthy(err instanceof Error ? err.message : String(err), { target: client.target });
        }
      },
      async close() {
        ts.close();
        await client.close();
      },
    };
  },
});
