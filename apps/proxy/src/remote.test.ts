import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import memstorePlugin from '@prism/adapter-memstore';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { describeKeyValueScanConformance } from '@prism/keyvalue-scan/conformance';
import { describeKeyValueTTLConformance } from '@prism/keyvalue-ttl/conformance';
import { describeListBasicConformance } from '@prism/list-basic/conformance';
import { definePlugin, implement, type PluginServer, servePlugin, z } from '@prism/sdk';
import { makeTestCerts, type RedisTestServer, startRedis, type TestCerts } from '@prism/testing';
import { resolvePluginBin } from './sidecar.js';
import { proxiedFactory, startTestProxy } from './test-support.js';

// Remote mode: the proxy connects to plugin servers over TCP with mutual TLS. MemStore's plugin server
// runs in this process; Redis's is its bin, spawned as a separate process.
let certs: TestCerts;
let memstoreServer: PluginServer;
let redis: RedisTestServer;
let redisPlugin: { child: ChildProcess; url: string };

const tlsYaml = () =>
  `{ ca: "${certs.caFile}", cert: "${certs.clientCertFile}", key: "${certs.clientKeyFile}" }`;

/** Runs `prism-plugin-redis --port 0` with mTLS and reads the URL from its readiness line. */
function spawnRedisPlugin(): Promise<{ child: ChildProcess; url: string }> {
  // The same lookup a sidecar launch does: the package's `bin`.
  const bin = resolvePluginBin(
    { type: 'redis', plugin: { mode: 'remote' }, config: {} },
    join(process.cwd(), 'x.yaml'),
  ).file;
  const child = spawn(
    process.execPath,
    [
      bin,
      '--port',
      '0',
      '--tls-cert',
      certs.serverCertFile,
      '--tls-key',
      certs.serverKeyFile,
      '--tls-ca',
      certs.caFile,
      '--tls-require-client-cert',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let logs = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`prism-plugin-redis exited with ${code}:\n${out}${logs}`)));
  });
}

beforeAll(async () => {
  certs = makeTestCerts();
  memstoreServer = await servePlugin(memstorePlugin, {
    port: 0,
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true },
  });
  redis = await startRedis();
  redisPlugin = await spawnRedisPlugin();
});
afterAll(async () => {
  redisPlugin?.child.kill('SIGTERM');
  await memstoreServer?.close();
  await redis?.dispose();
  certs?.remove();
});

const memstore = proxiedFactory(
  () =>
    `{ type: memstore, plugin: { mode: remote, endpoint: "${memstoreServer.url}", tls: ${tlsYaml()} }, config: { sweep_interval_ms: 50 } }`,
);
describeKeyValueBasicConformance('memstore-remote', memstore);
describeKeyValueTTLConformance('memstore-remote', memstore, { scan: true });
describeKeyValueScanConformance('memstore-remote', memstore);
describeListBasicConformance('memstore-remote', memstore);

const viaRedis = proxiedFactory(
  () =>
    `{ type: redis, plugin: { mode: remote, endpoint: "${redisPlugin.url}", tls: ${tlsYaml()} }, config: { url: "${redis.url}" } }`,
);
describeKeyValueBasicConformance('redis-remote', viaRedis);
describeKeyValueTTLConformance('redis-remote', viaRedis, { scan: true });
describeKeyValueScanConformance('redis-remote', viaRedis);
describeListBasicConformance('redis-remote', viaRedis);

describe('remote plugin checks at connect time', () => {
  // A backend type the proxy has never heard of: the config accepts it (remote), the proxy asks the plugin.
  const basicOnly = definePlugin({
    name: 'elsewhere',
    version: '9.9.9',
    interfaces: [KeyValueBasic],
    configSchema: z.object({ size: z.number().int().positive() }),
    create: () => ({
      bindings: [
        implement(KeyValueBasic, {
          set: () => ({}),
          get: () => ({ found: false }),
          delete: () => ({ deleted: false }),
          exists: () => ({ exists: false }),
        }),
      ],
    }),
  });
  let server: PluginServer;
  beforeAll(async () => {
    server = await servePlugin(basicOnly, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const config = (extra: string, config = '{ size: 1 }') =>
    `namespaces:\n  - name: far\n    pattern: keyvalue\n${extra}    backend: { type: elsewhere, plugin: { mode: remote, endpoint: "${server.url}" }, config: ${config} }\n`;

  it('serves an unknown backend type that a remote plugin implements', async () => {
    const test = await startTestProxy(config(''));
    try {
      const kv = test.client('far').get(KeyValueBasic)!;
      const res = await kv.exists({ namespace: 'far', key: 'k' } as never, {
        signal: new AbortController().signal,
      });
      expect(res.exists).toBe(false);
    } finally {
      await test.stop();
    }
  });

  it('refuses to start when the plugin lacks a needed interface, naming both', async () => {
    await expect(startTestProxy(config('    needs: { ttl: true }\n'))).rejects.toThrow(
      /namespace "far" needs keyvalue_ttl, but plugin "elsewhere" .* implements only keyvalue_basic/,
    );
  });

  it('reports the plugin config error with its field path', async () => {
    await expect(startTestProxy(config('', '{ size: -1 }'))).rejects.toThrow(
      /Initialize failed \(InvalidArgument\).*size/,
    );
  });
});
