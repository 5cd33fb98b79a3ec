import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@prism/config';
import { PluginCatalog, type RunningProxy, startProxy } from '@prism/proxy';
import { DEFAULTS, type LoadOptions, runLoad } from './run.js';
import type { HttpVersion } from './wire/client.js';
import type { Protocol } from './wire/protocol.js';

const YAML = `
proxy:
  listen: 127.0.0.1:0
namespaces:
  - name: bench
    pattern: keyvalue
    backend: { type: memstore }
`;

describe('prism-load against an in-process proxy on MemStore', () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    const catalog = new PluginCatalog();
    await catalog.load(['memstore']);
    proxy = await startProxy({
      config: parseConfig(YAML, { file: 'bench.yaml', catalog }),
      catalog,
      port: 0,
    });
  });
  afterAll(async () => {
    await proxy?.shutdown();
  });

  const options = (over: Partial<LoadOptions>): LoadOptions => ({
    ...DEFAULTS,
    target: proxy.url,
    namespace: 'bench',
    durationS: 1,
    warmupS: 0,
    concurrency: 8,
    keys: 50,
    valueSize: 256,
    ...over,
  });

  const cases: [Protocol, HttpVersion][] = [
    ['grpc', '2'],
    ['connect', '2'],
    ['grpcweb', '2'],
    ['connect', '1.1'],
    ['grpcweb', '1.1'],
  ];
  for (const [protocol, httpVersion] of cases) {
    it(`drives mixed get/set over ${protocol} on HTTP/${httpVersion} without errors`, async () => {
      const report = await runLoad(options({ protocol, httpVersion, op: 'mixed', ratio: 0.5 }));
      expect(report.errors).toEqual({});
      expect(report.ok).toBeGreaterThan(0);
      expect(report.latencyMs.count).toBe(report.ok);
      expect(report.latencyMs.p50).toBeGreaterThan(0);
    });
  }

  it('runs open loop at a fixed rate', async () => {
    const report = await runLoad(options({ protocol: 'grpc', op: 'get', rps: 200 }));
    expect(report.errors).toEqual({});
    expect(report.ok).toBeGreaterThan(0);
    expect(report.rps).toBe(200);
  });

  it('reports the status code of failing calls', async () => {
    const report = await runLoad(
      options({ protocol: 'connect', op: 'set', namespace: 'missing', concurrency: 2 }),
    );
    expect(report.ok).toBe(0);
    expect(Object.keys(report.errors)).toEqual(['NOT_FOUND']);
  });
});
