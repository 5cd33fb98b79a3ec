import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueBatchConformance } from '@prism/keyvalue-batch/conformance';
import { describeKeyValueCASConformance } from '@prism/keyvalue-cas/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTransactionalConformance } from '@prism/keyvalue-transactional/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { describeListBasicConformance } from '@prism/list-basic/conformance';
import { instantiatePlugin, type PluginFactory } from '@prism/sdk';
import { testServerUrl } from '@prism/testing';
import plugin from './index.js';

// Every interface the plugin declares, against the real redis-server the jest global setup started.
const factory: PluginFactory = (opts) => instantiatePlugin(plugin, { url: testServerUrl('redis') }, opts);

describeKeyValueBasicConformance('redis', factory);
describeKeyValueTTLConformance('redis', factory, { scan: true });
describeKeyValueScanConformance('redis', factory);
describeKeyValueBatchConformance('redis', factory, { ttl: true });
describeKeyValueCASConformance('redis', factory, { ttl: true, batch: true });
describeKeyValueTransactionalConformance('redis', factory, { cas: true, ttl: true });
describeListBasicConformance('redis', factory);
