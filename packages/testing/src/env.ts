import { readLog } from './process.js';

/** Backend kinds the jest glue can start once per test run. */
export type TestServerKind = 'redis' | 'postgres' | 'nats' | 'kafka' | 'clickhouse' | 'gremlin' | 's3';

/** Environment variable prefix per kind: `<prefix>_URL` holds the URL, `<prefix>_LOG` the log file. */
export const TEST_ENV_PREFIX: Readonly<Record<string, string>> = {
  redis: 'PRISM_TEST_REDIS',
  postgres: 'PRISM_TEST_PG',
  nats: 'PRISM_TEST_NATS',
  kafka: 'PRISM_TEST_KAFKA',
  clickhouse: 'PRISM_TEST_CLICKHOUSE',
  gremlin: 'PRISM_TEST_GREMLIN',
  s3: 'PRISM_TEST_S3',
};

function prefixOf(kind: string): string {
  return TEST_ENV_PREFIX[kind] ?? `PRISM_TEST_${kind.toUpperCase()}`;
}

/**
 * URL of the server the jest global setup started for this test run (e.g. `PRISM_TEST_REDIS_URL`).
 * Throws with the fix when the package's jest config does not start that server.
 */
export function testServerUrl(kind: TestServerKind | (string & {})): string {
  const name = `${prefixOf(kind)}_URL`;
  const url = process.env[name];
  if (!url)
    throw new Error(
      `${name} is not set: start a ${kind} server for this test run with ` +
        `withTestServers(preset, ['${kind}']) from '@prism/testing/jest-config' in jest.config.mjs`,
    );
  return url;
}

/** Log output of the run-wide server of `kind` (empty when there is none). */
export function testServerLogs(kind: TestServerKind | (string & {})): string {
  const file = process.env[`${prefixOf(kind)}_LOG`];
  return file ? readLog(file) : '';
}
