import { afterAll } from '@jest/globals';
import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueBatchConformance } from '@prism/keyvalue-batch/conformance';
import { describeKeyValueCASConformance } from '@prism/keyvalue-cas/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTransactionalConformance } from '@prism/keyvalue-transactional/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
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

describeKeyValueBasicConformance('postgres', freshDatabase());
describeKeyValueTTLConformance('postgres', freshDatabase(), { scan: true });
describeKeyValueScanConformance('postgres', freshDatabase());
describeKeyValueBatchConformance('postgres', freshDatabase(), { ttl: true });
describeKeyValueCASConformance('postgres', freshDatabase(), { ttl: true, batch: true });
describeKeyValueTransactionalConformance('postgres', freshDatabase(), { ttl: true, cas: true });
