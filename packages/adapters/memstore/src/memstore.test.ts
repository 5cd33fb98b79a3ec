import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueBatchConformance } from '@prism/keyvalue-batch/conformance';
import { describeKeyValueCASConformance } from '@prism/keyvalue-cas/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTransactionalConformance } from '@prism/keyvalue-transactional/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { describeListBasicConformance } from '@prism/list-basic/conformance';
import { type InstantiateOptions, instantiatePlugin } from '@prism/sdk';
import plugin from './index.js';

// A short sweep interval so background expiry is exercised too, not only expiry on read.
const factory = (opts: InstantiateOptions) => instantiatePlugin(plugin, { sweep_interval_ms: 50 }, opts);

describeKeyValueBasicConformance('memstore', factory);
describeKeyValueTTLConformance('memstore', factory, { scan: true });
describeKeyValueScanConformance('memstore', factory);
describeKeyValueBatchConformance('memstore', factory, { ttl: true });
describeKeyValueCASConformance('memstore', factory, { ttl: true, batch: true });
describeKeyValueTransactionalConformance('memstore', factory, { ttl: true, cas: true });
describeListBasicConformance('memstore', factory);
