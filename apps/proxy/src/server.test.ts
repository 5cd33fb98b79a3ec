import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@prism/config';
import { KeyValueBasic, KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { Health, HealthCheckResponse_ServingStatus } from '@prism/proto/grpc/health/v1/health_pb';
import { KeyValueTTLInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_ttl_pb';
import { createLogger, definePlugin, implement, z } from '@prism/sdk';
import { PluginCatalog } from './catalog.js';
import { type RunningProxy, startProxy } from './server.js';

/** A tiny real plugin whose Get waits for the test to open a gate: makes "in flight" observable. */
let openGate: () => void = () => {};
const gated = definePlugin({
  name: 'gated',
  version: '0.0.0',
  interfaces: [KeyValueBasic],
  configSchema: z.object({}),
  create: () => ({
    bindings: [
      implement(KeyValueBasic, {
        set: () => ({}),
        get: () =>
          new Promise((resolve) => (openGate = () => resolve({ found: true, value: new Uint8Array([7]) }))),
        delete: () => ({ deleted: false }),
        exists: () => ({ exists: false }),
      }),
    ],
  }),
});

const YAML = `
proxy:
  listen: 127.0.0.1:0
  read_max_bytes: 65536
namespaces:
  - name: default
    pattern: keyvalue
    backend: { type: memstore }
  - name: small
    pattern: keyvalue
    limits: { max_value_bytes: 16 }
    backend: { type: memstore }
  - name: gated
    pattern: keyvalue
    backend: { type: gated }
`;

async function start(): Promise<RunningProxy> {
  const catalog = new PluginCatalog().register(gated);
  await catalog.load(['memstore']);
  const config = parseConfig(YAML, { file: 'test.yaml', catalog });
  return startProxy({ config, catalog, port: 0, logger: createLogger({ name: 'test', level: 'warn' }) });
}

const transports = (url: string): Record<string, Transport> => ({
  'gRPC over h2c': createGrpcTransport({ baseUrl: url }),
  'Connect over h2c': createConnectTransport({ baseUrl: url, httpVersion: '2' }),
  'Connect over HTTP/1.1': createConnectTransport({ baseUrl: url, httpVersion: '1.1' }),
  'gRPC-web over HTTP/1.1': createGrpcWebTransport({ baseUrl: url, httpVersion: '1.1' }),
});

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: Code[ce.code], message: ce.rawMessage };
  }
  throw new Error('expected the call to fail');
}

describe('proxy', () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await start();
  });
  afterAll(async () => {
    openGate();
    await proxy?.shutdown();
  });

  const kv = (name: string) => createClient(KeyValueBasicInterface, transports(proxy.url)[name]!);

  for (const name of [
    'gRPC over h2c',
    'Connect over h2c',
    'Connect over HTTP/1.1',
    'gRPC-web over HTTP/1.1',
  ]) {
    it(`round-trips Set/Get/Exists/Delete over ${name}`, async () => {
      const client = kv(name);
      const key = `k-${name}`;
      expect((await client.get({ namespace: 'default', key })).found).toBe(false);
      await client.set({ namespace: 'default', key, value: new Uint8Array([0, 1, 255]) });
      expect(await client.get({ namespace: 'default', key })).toMatchObject({
        found: true,
        value: new Uint8Array([0, 1, 255]),
      });
      expect((await client.exists({ namespace: 'default', key })).exists).toBe(true);
      expect((await client.delete({ namespace: 'default', key })).deleted).toBe(true);
    });
  }

  it('answers NOT_FOUND for an unknown namespace and INVALID_ARGUMENT for none', async () => {
    const client = kv('gRPC over h2c');
    expect(await codeOf(client.get({ namespace: 'nope', key: 'a' }))).toEqual({
      code: 'NotFound',
      message: 'namespace "nope" is not configured on this proxy',
    });
    expect((await codeOf(client.get({ namespace: '', key: 'a' }))).code).toBe('InvalidArgument');
  });

  it('answers UNIMPLEMENTED naming namespace, interface and backend when the backend lacks it', async () => {
    const ttl = createClient(KeyValueTTLInterface, transports(proxy.url)['gRPC over h2c']!);
    const { code, message } = await codeOf(ttl.getTTL({ namespace: 'gated', key: 'a' }));
    expect(code).toBe('Unimplemented');
    expect(message).toMatch(/namespace "gated"/);
    expect(message).toMatch(/backend "gated"/);
    expect(message).toMatch(/keyvalue_ttl/);
  });

  it('enforces per-namespace value limits and the request size limit', async () => {
    const client = kv('Connect over h2c');
    const small = await codeOf(client.set({ namespace: 'small', key: 'a', value: new Uint8Array(17) }));
    expect(small.code).toBe('InvalidArgument');
    expect(small.message).toMatch(/at most 16/);
    const big = await codeOf(client.set({ namespace: 'default', key: 'a', value: new Uint8Array(70000) }));
    expect(big.code).toBe('ResourceExhausted');
  });

  it('serves grpc.health.v1 for the proxy, namespaces and interfaces', async () => {
    const health = createClient(Health, transports(proxy.url)['gRPC over h2c']!);
    for (const service of ['', 'default', KeyValueBasicInterface.typeName])
      expect((await health.check({ service })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await codeOf(health.check({ service: 'missing' }))).code).toBe('NotFound');
    const watch = health.watch({ service: '' }, { signal: AbortSignal.timeout(5000) });
    for await (const res of watch) {
      expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      break;
    }
  });

  it('answers CORS preflights for browsers on the HTTP/1.1 side of the port', async () => {
    const res = await fetch(`${proxy.url}/${KeyValueBasicInterface.typeName}/Get`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,connect-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Connect-Protocol-Version/i);
  });
});

describe('proxy shutdown', () => {
  it('finishes in-flight calls, refuses new connections, then resolves', async () => {
    const proxy = await start();
    const client = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    const inflight = client.get({ namespace: 'gated', key: 'x' });
    // Wait until the call reached the plugin (the gate exists) before shutting down.
    const gateSet = openGate;
    for (let i = 0; i < 200 && openGate === gateSet; i++) await new Promise((r) => setTimeout(r, 10));
    const stopped = proxy.shutdown();
    const fresh = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    // The port is closed: a new client cannot connect (connect-node reports refused connections as INTERNAL).
    expect((await codeOf(fresh.get({ namespace: 'default', key: 'x' }))).message).toMatch(/ECONNREFUSED/);
    openGate();
    expect(await inflight).toMatchObject({ found: true, value: new Uint8Array([7]) });
    await stopped;
  });
});

describe('proxy reflection', () => {
  it('lets buf curl call the proxy without a local copy of the protos', async () => {
    const proxy = await start();
    try {
      const buf = fileURLToPath(new URL('../../../node_modules/.bin/buf', import.meta.url));
      const call = (method: string, body: object) =>
        promisify(execFile)(buf, [
          'curl',
          '--protocol',
          'grpc',
          '--http2-prior-knowledge',
          `${proxy.url}/prism.keyvalue.v1.KeyValueBasicInterface/${method}`,
          '-d',
          JSON.stringify(body),
        ]).then((r) => JSON.parse(r.stdout) as unknown);
      expect(await call('Set', { namespace: 'default', key: 'r', value: 'aGk=' })).toEqual({});
      expect(await call('Get', { namespace: 'default', key: 'r' })).toEqual({ found: true, value: 'aGk=' });
      const { stdout } = await promisify(execFile)(buf, [
        'curl',
        '--http2-prior-knowledge',
        '--list-methods',
        `${proxy.url}`,
      ]);
      expect(stdout).toContain('prism.pubsub.v1.PubSubBasicInterface/Subscribe');
    } finally {
      await proxy.shutdown();
    }
  });
});
