// Shared by the test files: one fresh database per test file on the run's real PostgreSQL server.
import { afterAll, beforeAll } from '@jest/globals';
import { type InstantiateOptions, instantiatePlugin, type PluginHandle } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import postgres from 'postgres';
import plugin from './index.js';

/** The test file's database; its fields are set once the file's beforeAll has run. */
export interface TestDatabase {
  /** Connection URL of the database. */
  readonly url: string;
  /** A postgres.js client of its own on the database, for checking (or planting) rows directly. */
  readonly direct: postgres.Sql;
  /** Starts an adapter instance on the database with `config` (plus the url); closed after all tests. */
  open(config: Record<string, unknown>, options: InstantiateOptions): Promise<PluginHandle>;
  /** Closes these handles after all tests, too. */
  track(...handles: PluginHandle[]): void;
}

/**
 * Registers beforeAll/afterAll hooks that create a fresh database (and a direct client on it) and, at the
 * end, close every tracked adapter instance and the client, then drop the database.
 */
export function useTestDatabase(): TestDatabase {
  let url = '';
  let direct: postgres.Sql | undefined;
  const handles: PluginHandle[] = [];
  beforeAll(async () => {
    url = await createDatabase(testServerUrl('postgres'));
    direct = postgres(url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await direct?.end();
    if (url) await dropDatabase(url);
  });
  return {
    get url() {
      return url;
    },
    get direct() {
      if (!direct) throw new Error('the test database is created in beforeAll: use it inside a test');
      return direct;
    },
    async open(config, options) {
      const h = await instantiatePlugin(plugin, { url, ...config }, options);
      handles.push(h);
      return h;
    },
    track(...hs) {
      handles.push(...hs);
    },
  };
}
