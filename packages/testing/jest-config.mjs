// Jest glue for packages whose tests need real servers. Plain JS so jest.config.mjs can import it
// without a build; the setup/teardown entries load the TypeScript sources through jest's transform.
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Returns `config` extended so one server per listed kind ('redis' | 'postgres' | 'nats') runs for the
 * whole test run: URLs reach tests as PRISM_TEST_REDIS_URL / PRISM_TEST_PG_URL / PRISM_TEST_NATS_URL,
 * server logs are printed when a test fails, and everything is stopped at the end.
 */
export function withTestServers(config, kinds) {
  return {
    ...config,
    globalSetup: here('./jest-setup.cjs'),
    globalTeardown: here('./jest-teardown.cjs'),
    globals: { ...config.globals, prismTestServers: [...kinds] },
    reporters: [...(config.reporters ?? ['default']), here('./jest-reporter.cjs')],
  };
}
