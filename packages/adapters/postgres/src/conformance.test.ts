import { afterAll } from '@jest/globals';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import { describeBackendConformance } from '@prism/testing/conformance';
import plugin from './index.js';

const databases: string[] = [];
afterAll(async () => {
  await Promise.all(databases.map((url) => dropDatabase(url)));
});

/**
 * A factory with a fresh database on the run's real PostgreSQL server, created on first use: each suite
 * starts empty, and the namespaces a suite opens share its database, as they would in production.
 */
function freshDatabase(): PluginFactory {
  let url: Promise<string> | undefined;
  return async (opts) => {
    url ??= createDatabase(testServerUrl('postgres')).then((u) => {
      databases.push(u);
      return u;
    });
    return instantiatePlugin(plugin, { url: await url, pool_size: 4 }, opts);
  };
}

// Every declared interface's suite, and UNIMPLEMENTED through the proxy for the rest.
describeBackendConformance('postgres', {
  plugin,
  config: { url: testServerUrl('postgres'), pool_size: 4 },
  factory: freshDatabase,
});
