import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { definePlugin, healthy, implement, unhealthy } from '@prism/sdk';
import { sqliteBasic } from './basic.js';
import { SqliteConfig } from './config.js';
import { sqliteScan } from './scan.js';
import { SqliteStore } from './store.js';
import { sqliteTtl } from './ttl.js';

export { SqliteConfig } from './config.js';

/** The SQLite backend: an embedded key/value store in one file (WAL) or in memory. */
export default definePlugin({
  name: 'sqlite',
  version: '0.1.0',
  description: 'Embedded key/value store on SQLite (better-sqlite3): a file in WAL mode, or :memory:',
  interfaces: [KeyValueBasic, KeyValueTTL, KeyValueScan],
  configSchema: SqliteConfig,
  create(config, ctx) {
    const store = new SqliteStore(config, ctx.namespace, ctx.logger);
    return {
      bindings: [
        implement(KeyValueBasic, sqliteBasic(store)),
        implement(KeyValueTTL, sqliteTtl(store)),
        implement(KeyValueScan, sqliteScan(store)),
      ],
      start: async () => store.open(),
      health: () => {
        try {
          store.ping();
          return healthy({ path: config.path });
        } catch (err) {
          return unhealthy(err instanceof Error ? err.message : String(err), { path: config.path });
        }
      },
      close: async () => store.close(),
    };
  },
});
