import { startClickHouse } from '../clickhouse.js';
import { startGremlinServer } from '../gremlin.js';
import { startKafka } from '../kafka.js';
import { startNats } from '../nats.js';
import { startPostgres } from '../postgres.js';
import { startRedis } from '../redis.js';
import { startS3Proxy } from '../s3proxy.js';
import type { TestServer } from '../server.js';

/** What a run-wide server exports to test workers, besides `<PREFIX>_URL` and `<PREFIX>_LOG`. */
export interface StartedForRun {
  readonly server: TestServer;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/**
 * Starters the jest global setup knows, by kind. Adding a backend (e.g. kafka) is one entry here
 * plus its env prefix in `TEST_ENV_PREFIX` (env.ts).
 */
export const RUN_STARTERS: Readonly<Record<string, () => Promise<StartedForRun>>> = {
  redis: async () => ({ server: await startRedis() }),
  postgres: async () => ({ server: await startPostgres() }),
  nats: async () => {
    const server = await startNats();
    return { server, extraEnv: { PRISM_TEST_NATS_MONITOR_URL: server.monitorUrl } };
  },
  // PRISM_TEST_KAFKA_URL is kafka://127.0.0.1:<port>; clients want the bootstrap host:port.
  kafka: async () => {
    const server = await startKafka();
    return { server, extraEnv: { PRISM_TEST_KAFKA_BOOTSTRAP: server.bootstrap } };
  },
  clickhouse: async () => ({ server: await startClickHouse() }),
  // PRISM_TEST_GREMLIN_URL is ws://127.0.0.1:<port>/gremlin; sources `g` and read-only `gro`.
  gremlin: async () => ({ server: await startGremlinServer() }),
  // PRISM_TEST_S3_URL is the S3Proxy endpoint http://127.0.0.1:<port> (path-style, region us-east-1).
  s3: async () => {
    const server = await startS3Proxy();
    return {
      server,
      extraEnv: {
        PRISM_TEST_S3_ACCESS_KEY_ID: server.accessKeyId,
        PRISM_TEST_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
        PRISM_TEST_S3_REGION: server.region,
        PRISM_TEST_S3_DATA_DIR: server.dataDir,
      },
    };
  },
};
