import { afterAll, beforeAll } from '@jest/globals';
import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { describeListBasicConformance } from '@prism/list-basic/conformance';
import { type RedisTestServer, startRedis } from '@prism/testing';
import { proxiedFactory } from './test-support.js';

// The unchanged conformance suites, through a real proxy whose namespace runs the adapter as a
// sidecar process (Unix socket, prism.plugin.v1 lifecycle).
const memstore = proxiedFactory(
  () => '{ type: memstore, plugin: { mode: sidecar }, config: { sweep_interval_ms: 50 } }',
);
describeKeyValueBasicConformance('memstore-sidecar', memstore);
describeKeyValueTTLConformance('memstore-sidecar', memstore, { scan: true });
describeKeyValueScanConformance('memstore-sidecar', memstore);
describeListBasicConformance('memstore-sidecar', memstore);

let redis: RedisTestServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});
const viaRedis = proxiedFactory(
  () => `{ type: redis, plugin: { mode: sidecar }, config: { url: "${redis.url}" } }`,
);
describeKeyValueBasicConformance('redis-sidecar', viaRedis);
describeKeyValueTTLConformance('redis-sidecar', viaRedis, { scan: true });
describeKeyValueScanConformance('redis-sidecar', viaRedis);
describeListBasicConformance('redis-sidecar', viaRedis);
