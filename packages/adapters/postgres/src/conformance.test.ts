import { afterAll, beforeAll } from '@jest/globals';
import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueBatchConformance } from '@prism/keyvalue-batch/conformance';
import { describeKeyValueCASConformance } from '@prism/keyvalue-cas/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTransactionalConformance } from '@prism/keyvalue-transactional/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { createDatabase, dropDatabase, testServerUrl } from '@prism/testing';
import plugin from './index.js';

// A fresh database on the run's real PostgreSQL server; every suite's namespaces share it, as in production.
let url = '';
beforeAll(async () => {
  url = await createDatabase(testServerUrl('postgres'));
});
afterAll(async () => {
  if (url) await dropDatabase(url);
});

const factory: PluginFactory = (opts) => instantiatePlugin(plugin, { url, pool_size: 4 }, opts);

describeKeyValueBasicConformance('postgres', factory);
describeKeyValueTTLConformance('postgres', factory, { scan: true });
describeKeyValueScanConformance('postgres', factory);
describeKeyValueBatchConformance('postgres', factory, { ttl: true });
describeKeyValueCASConformance('postgres', factory, { ttl: true, batch: true });
describeKeyValueTransactionalConformance('postgres', factory, { ttl: true, cas: true });
