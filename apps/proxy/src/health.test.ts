import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { parseConfig } from '@prism/config';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { createLogger, definePlugin, implement, z } from '@prism/sdk';
import { waitUntil } from '@prism/testing';
import { PluginCatalog } from './catalog.js';
import { type RunningProxy, startProxy } from './server.js';

/** A plugin that counts how often its health is asked for (a sidecar pays an RPC for each). */
let healthCalls = 0;
const counted = definePlugin({
  name: 'counted',
  version: '0.0.0',
  interfaces: [KeyValueBasic],
  configSchema: z.object({}),
  create: () => ({
    bindings: [
      implement(KeyValueBasic, {
        set: () => ({}),
        get: () => ({ found: false }),
        delete: () => ({}),
        exists: () => ({ exists: false }),
      }),
    ],
    health: () => {
      healthCalls++;
      return { status: 'healthy' as const };
    },
  }),
});

let proxy: RunningProxy;
beforeAll(async () => {
  const catalog = new PluginCatalog().register(counted);
  const config = parseConfig(
    'namespaces:\n  - name: c\n    pattern: keyvalue\n    backend: { type: counted }\n',
    {
      file: 'health.yaml',
      catalog,
    },
  );
  proxy = await startProxy({
    config,
    catalog,
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ name: 't', level: 'silent' }),
  });
});
afterAll(() => proxy?.shutdown());

it('500 Watch streams on one namespace share one health poll per second', async () => {
  const health = createClient(Health, createGrpcTransport({ baseUrl: proxy.url }));
  const stop = new AbortController();
  const first: Promise<Status>[] = [];
  const watches = Array.from({ length: 500 }, async () => {
    const it = health.watch({ service: 'c' }, { signal: stop.signal })[Symbol.asyncIterator]();
    const head = it.next().then((r) => (r.value as { status: Status }).status);
    first.push(head);
    try {
      for (;;) if ((await it.next()).done) return;
    } catch {
      // the watch ends when the test aborts it
    }
  });
  expect(new Set(await Promise.all(first))).toEqual(new Set([Status.SERVING]));
  const before = healthCalls;
  const t0 = performance.now();
  // Three evaluations take two intervals when they are shared; unshared, 500 watchers make them at once.
  await waitUntil(() => healthCalls - before >= 3, {
    timeoutMs: 10_000,
    intervalMs: 10,
    what: 'three health polls',
  });
  const elapsed = performance.now() - t0;
  const polls = healthCalls - before;
  stop.abort();
  await Promise.allSettled(watches);
  // One evaluation per second shared by all 500 (a few more at the edges), not 500 per second.
  expect(elapsed).toBeGreaterThanOrEqual(1500);
  expect(polls).toBeLessThanOrEqual(5);
});
