import { resolve } from 'node:path';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { definePlugin, healthy, type Isolation, implement, unhealthy } from '@prism/sdk';
import { sqliteBasic } from './basic.js';
import { sqliteBatch } from './batch.js';
import { sqliteCas } from './cas.js';
import { SqliteConfig } from './config.js';
import { sqliteScan } from './scan.js';
import { SqliteStore } from './store.js';
import { sqliteTransactional } from './transact.js';
import { sqliteTtl } from './ttl.js';

export { SqliteConfig } from './config.js';

/** The SQLite backend: an embedded key/value store in one file (WAL) or in memory. */
export default definePlugin({
  name: 'sqlite',
  version: '0.1.0',
  description: 'Embedded key/value store on SQLite (better-sqlite3): a file in WAL mode, or :memory:',
  interfaces: [KeyValueBasic, KeyValueTTL, KeyValueScan, KeyValueBatch, KeyValueCAS, KeyValueTransactional],
  configSchema: SqliteConfig,
  /** A database file holds every namespace's rows, keyed by the namespace name; `:memory:` is private. */
  isolation(config, namespace): Isolation | undefined {
    if (config.path === ':memory:') return undefined;
    return {
      endpoints: [`file:${resolve(config.path)}`],
      scopes: [{ kind: 'rows of table prism_kv', value: namespace, match: 'exact' }],
    };
  },
  create(config, ctx) {
    const store = new SqliteStore(config, ctx.namespace, ctx.logger);
    return {
      bindings: [
        implement(KeyValueBasic, sqliteBasic(store)),
        implement(KeyValueTTL, sqliteTtl(store)),
        implement(KeyValueScan, sqliteScan(store, ctx.limits)),
        implement(KeyValueBatch, sqliteBatch(store)),
        implement(KeyValueCAS, sqliteCas(store)),
        implement(KeyValueTransactional, sqliteTransactional(store)),
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
