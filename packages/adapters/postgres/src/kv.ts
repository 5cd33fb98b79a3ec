import { KeyValueBasic } from '@prism/keyvalue-basic';
import { KeyValueBatch } from '@prism/keyvalue-batch';
import { KeyValueCAS } from '@prism/keyvalue-cas';
import { KeyValueScan } from '@prism/keyvalue-scan';
import { KeyValueTransactional } from '@prism/keyvalue-transactional';
import { KeyValueTTL } from '@prism/keyvalue-ttl';
import { type Binding, implement, type Limits } from '@prism/sdk';
import type { PgClient } from './client.js';
import { pgBasic } from './kv-basic.js';
import { pgBatch } from './kv-batch.js';
import { pgCas } from './kv-cas.js';
import { pgScan } from './kv-scan.js';
import { ensureKvSchema, kvTables } from './kv-schema.js';
import { pgTransactional } from './kv-transact.js';
import { pgTtl, startKvSweeper } from './kv-ttl.js';

/** The key/value interfaces this adapter implements. */
export const KV_INTERFACES = [
  KeyValueBasic,
  KeyValueTTL,
  KeyValueScan,
  KeyValueBatch,
  KeyValueCAS,
  KeyValueTransactional,
];

/** The key/value part of the adapter: its bindings, and what to do on start. */
export function keyValue(client: PgClient, limits?: Limits): { bindings: Binding[]; start(): Promise<void> } {
  const tables = kvTables(client.config.schema);
  return {
    bindings: [
      implement(KeyValueBasic, pgBasic(client, tables)),
      implement(KeyValueTTL, pgTtl(client, tables)),
      implement(KeyValueScan, pgScan(client, tables, limits)),
      implement(KeyValueBatch, pgBatch(client, tables)),
      implement(KeyValueCAS, pgCas(client, tables)),
      implement(KeyValueTransactional, pgTransactional(client, tables)),
    ],
    async start() {
      await ensureKvSchema(client, tables);
      startKvSweeper(client, tables);
    },
  };
}
