import { TEST_ENV_PREFIX } from '../env.js';
import type { TestServer } from '../server.js';
import { RUN_STARTERS } from './servers.js';

/** Where the setup keeps the servers for the teardown (both run in jest's main process). */
export const SERVERS_KEY = '__PRISM_TEST_SERVERS__';

type ProjectConfig = { globals?: Record<string, unknown> };

/**
 * Jest globalSetup: starts one server per kind listed in the project's `globals.prismTestServers`
 * and publishes its URL and log file as env vars, which test workers inherit.
 */
export default async function globalSetup(
  _globalConfig: unknown,
  projectConfig: ProjectConfig,
): Promise<void> {
  const kinds = (projectConfig.globals?.prismTestServers as string[] | undefined) ?? [];
  const servers: TestServer[] = [];
  (globalThis as Record<string, unknown>)[SERVERS_KEY] = servers;
  await Promise.all(
    kinds.map(async (kind) => {
      const start = RUN_STARTERS[kind];
      if (!start)
        throw new Error(
          `@prism/testing cannot start "${kind}" (known: ${Object.keys(RUN_STARTERS).join(', ')})`,
        );
      const { server, extraEnv } = await start();
      servers.push(server);
      const prefix = TEST_ENV_PREFIX[kind] ?? `PRISM_TEST_${kind.toUpperCase()}`;
      process.env[`${prefix}_URL`] = server.url;
      process.env[`${prefix}_LOG`] = server.logFile;
      Object.assign(process.env, extraEnv);
    }),
  );
}
