import { startNats } from '../nats.js';
import { startPostgres } from '../postgres.js';
import { startRedis } from '../redis.js';
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
};
