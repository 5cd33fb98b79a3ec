import type { PgClient } from './client.js';
import { ensureSchemaObjects } from './ddl.js';

/** Identifiers of the key/value objects in the configured schema. */
export interface KvTables {
  readonly schema: string;
  /** `<schema>.kv` */
  readonly table: string;
  /** `<schema>.kv_version`: every write takes a fresh number from it (the CAS etag). */
  readonly sequence: string;
}

/** Names of the key/value table and sequence in `schema`. */
export const kvTables = (schema: string): KvTables => ({
  schema,
  table: `${schema}.kv`,
  sequence: `${schema}.kv_version`,
});

/**
 * Creates the schema, the version sequence and the key/value table if missing; idempotent and safe when
 * several instances start concurrently. All namespaces share the table: `namespace` leads the primary key.
 * Keys use COLLATE "C" so ordering and prefix ranges follow bytes, whatever the database's locale.
 */
export async function ensureKvSchema(client: PgClient, t: KvTables): Promise<void> {
  await ensureSchemaObjects(client, t.schema, (schema) => {
    const table = `${schema}."kv"`;
    const sequence = `${schema}."kv_version"`;
    return [
      `CREATE SEQUENCE IF NOT EXISTS ${sequence}`,
      `
        CREATE TABLE IF NOT EXISTS ${table} (
          namespace  text COLLATE "C" NOT NULL,
          key        text COLLATE "C" NOT NULL,
          value      bytea NOT NULL,
          expires_at timestamptz,
          version    bigint NOT NULL DEFAULT nextval('${sequence}'),
          PRIMARY KEY (namespace, key)
        )`,
      `CREATE INDEX IF NOT EXISTS kv_expiry ON ${table} (namespace, expires_at) WHERE expires_at IS NOT NULL`,
    ];
  });
}
