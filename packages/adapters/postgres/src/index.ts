import { definePlugin, healthy, unhealthy } from '@prism/sdk';
import { PgClient } from './client.js';
import { PostgresConfig } from './config.js';
import { KV_INTERFACES, keyValue } from './kv.js';

export { PostgresConfig } from './config.js';

/**
 * The PostgreSQL backend. One pool per namespace (PgClient); each data model lives in its own module
 * (key/value in kv*.ts) and contributes its interfaces, bindings and start-up step here.
 */
export default definePlugin({
  name: 'postgres',
  version: '0.1.0',
  description: 'PostgreSQL (postgres.js): key/value with TTL and ordered scans on a shared database',
  interfaces: [...KV_INTERFACES],
  configSchema: PostgresConfig,
  create(config, ctx) {
    const client = new PgClient(config, ctx.namespace, ctx.logger);
    const kv = keyValue(client);
    return {
      bindings: [...kv.bindings],
      async start() {
        try {
          await kv.start();
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
          });
        } catch (err) {
          return unhealthy(err instanceof Error ? err.message : String(err), { target: client.target });
        }
      },
      close: () => client.close(),
    };
  },
});
