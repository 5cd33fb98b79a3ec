import type { PgClient } from './client.js';

/**
 * Per-database advisory lock key ("prkv" as int) that all of the adapter's DDL takes: every module's
 * statements start with the same CREATE SCHEMA, so they must take turns with each other, not only with
 * themselves.
 */
export const DDL_LOCK = 0x7072_6b76;

/**
 * Creates the configured schema if missing, then runs `statements` (each idempotent: IF NOT EXISTS) in the
 * same transaction, holding the adapter's per-database advisory lock so that concurrent starts take turns:
 * IF NOT EXISTS alone races when two proxies start at once (both see an object missing, one fails on the
 * unique catalog index). DDL takes no bind parameters: `statements` gets the schema as a quoted identifier;
 * schema names come from the validated config ([a-z0-9_]).
 */
export async function ensureSchemaObjects(
  client: PgClient,
  schemaName: string,
  statements: (schema: string) => readonly string[],
): Promise<void> {
  const schema = `"${schemaName}"`;
  await client.run(
    client.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${DDL_LOCK})`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      for (const ddl of statements(schema)) await tx.unsafe(ddl);
    }),
  );
}
