import type { PgClient } from './client.js';

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

// Per-database advisory lock key ("prism-kv" as int) serialising DDL: IF NOT EXISTS alone races when two
// proxies start at once (both see the schema missing, one fails on the unique catalog index).
const DDL_LOCK = 0x7072_6b76;

/**
 * Creates the schema, the version sequence and the key/value table if missing; idempotent and safe when
 * several instances start concurrently. All namespaces share the table: `namespace` leads the primary key.
 * Keys use COLLATE "C" so ordering and prefix ranges follow bytes, whatever the database's locale.
 */
export async function ensureKvSchema(client: PgClient, t: KvTables): Promise<void> {
  // DDL takes no bind parameters; identifiers come from the validated config ([a-z0-9_]) and are quoted.
  const schema = `"${t.schema}"`;
  const table = `${schema}."kv"`;
  const sequence = `${schema}."kv_version"`;
  await client.run(
    client.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${DDL_LOCK})`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await tx.unsafe(`CREATE SEQUENCE IF NOT EXISTS ${sequence}`);
      await tx.unsafe(`
        CREATE TABLE IF NOT EXISTS ${table} (
          namespace  text COLLATE "C" NOT NULL,
          key        text COLLATE "C" NOT NULL,
          value      bytea NOT NULL,
          expires_at timestamptz,
          version    bigint NOT NULL DEFAULT nextval('${sequence}'),
          PRIMARY KEY (namespace, key)
        )`);
      await tx.unsafe(
        `CREATE INDEX IF NOT EXISTS kv_expiry ON ${table} (namespace, expires_at) WHERE expires_at IS NOT NULL`,
      );
    }),
  );
}
