import http2 from 'node:http2';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@prism/config';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import {
  GetRequestSchema,
  GetResponseSchema,
  KeyValueBasicInterface,
} from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { createLogger, definePlugin, implement, z } from '@prism/sdk';
import { PluginCatalog } from './catalog.js';
import { type RunningProxy, startProxy } from './server.js';

/** Get answers after the client's signal aborts (or 5 s): shows whether cancellation reaches the plugin. */
let aborted: string | undefined;
let reached = false;
const watching = definePlugin({
  name: 'watching',
  version: '0.0.0',
  interfaces: [KeyValueBasic],
  configSchema: z.object({}),
  create: () => ({
    bindings: [
      implement(KeyValueBasic, {
        set: () => ({}),
        get: (req, ctx) =>
          req.key === 'hang'
            ? new Promise((resolve) => {
                reached = true;
                ctx.signal.addEventListener('abort', () => {
                  aborted = String(ctx.signal.reason);
                  resolve({ found: false });
                });
              })
            : { found: true, value: new TextEncoder().encode(req.key) },
        delete: () => {
          throw new ConnectError('nope', Code.PermissionDenied, { 'x-why': 'because' });
        },
        exists: () => ({ exists: true }),
      }),
    ],
  }),
});

const YAML = `
proxy:
  listen: 127.0.0.1:0
  read_max_bytes: 4096
namespaces:
  - name: w
    pattern: keyvalue
    backend: { type: watching }
`;

describe('unary fast path', () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    const catalog = new PluginCatalog().register(watching);
    const config = parseConfig(YAML, { file: 'fast.yaml', catalog });
    proxy = await startProxy({
      config,
      catalog,
      port: 0,
      logger: createLogger({ name: 't', level: 'silent' }),
    });
  });
  afterAll(async () => {
    await proxy?.shutdown();
  });

  const transports = () => ({
    grpc: createGrpcTransport({ baseUrl: proxy.url }),
    connect: createConnectTransport({ baseUrl: proxy.url, httpVersion: '2' }),
    'connect h1': createConnectTransport({ baseUrl: proxy.url, httpVersion: '1.1' }),
    'grpc-web h1': createGrpcWebTransport({ baseUrl: proxy.url, httpVersion: '1.1' }),
    'grpc-web h2': createGrpcWebTransport({ baseUrl: proxy.url, httpVersion: '2' }),
  });

  it('answers the same with and without a deadline (both on the fast path)', async () => {
    for (const [name, transport] of Object.entries(transports())) {
      const kv = createClient(KeyValueBasicInterface, transport);
      for (const timeoutMs of [undefined, 5000]) {
        const res = await kv.get({ namespace: 'w', key: `k-${name}` }, { timeoutMs });
        expect(new TextDecoder().decode(res.value)).toBe(`k-${name}`);
        const err = await kv
          .delete({ namespace: 'w', key: 'a' }, { timeoutMs })
          .catch((e: unknown) => ConnectError.from(e));
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.PermissionDenied);
        expect((err as ConnectError).rawMessage).toMatch(/nope/);
        expect((err as ConnectError).metadata.get('x-why')).toBe('because');
      }
    }
  });

  it('enforces read_max_bytes right at the limit on every protocol', async () => {
    // A SetRequest for namespace "w", key "k" and an n-byte value encodes to n + 9 bytes (128 ≤ n < 16384).
    for (const [name, transport] of Object.entries(transports())) {
      const kv = createClient(KeyValueBasicInterface, transport);
      await kv.set({ namespace: 'w', key: 'k', value: new Uint8Array(4087) }); // exactly 4096 bytes
      const err = await kv
        .set({ namespace: 'w', key: 'k', value: new Uint8Array(4088) })
        .catch((e: unknown) => ConnectError.from(e));
      expect([name, (err as ConnectError).code]).toEqual([name, Code.ResourceExhausted]);
    }
  });

  it('rejects a malformed gRPC envelope with an error instead of crashing', async () => {
    const session = http2.connect(proxy.url);
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': `/${KeyValueBasicInterface.typeName}/Get`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      req.on('response', (h) => {
        if (h['grpc-status'] !== undefined) resolve(String(h['grpc-status']));
      });
      req.on('trailers', (t) => resolve(String(t['grpc-status'])));
      req.on('error', reject);
      req.end(Buffer.from([0, 0, 0, 0, 9, 1])); // says 9 bytes, carries 1
    });
    session.close();
    expect(status).toBe(String(Code.InvalidArgument));
    // The proxy still serves.
    const kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    expect((await kv.exists({ namespace: 'w', key: 'x' })).exists).toBe(true);
  });

  it('decodes and encodes exactly what connect-node would (raw gRPC request)', async () => {
    const session = http2.connect(proxy.url);
    const msg = toBinary(GetRequestSchema, create(GetRequestSchema, { namespace: 'w', key: 'raw' }));
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
    const out = await new Promise<Buffer>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': `/${KeyValueBasicInterface.typeName}/Get`,
        'content-type': 'application/grpc+proto',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('trailers', (t) => {
        if (t['grpc-status'] !== '0') reject(new Error(`grpc-status ${t['grpc-status']}`));
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
      req.end(body);
    });
    session.close();
    expect(fromBinary(GetResponseSchema, out.subarray(5))).toMatchObject({
      found: true,
      value: new TextEncoder().encode('raw'),
    });
  });

  it('aborts the call signal when the client cancels', async () => {
    aborted = undefined;
    reached = false;
    const kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    const ac = new AbortController();
    const call = kv.get({ namespace: 'w', key: 'hang' }, { signal: ac.signal }).catch(() => 'cancelled');
    const until = async (cond: () => boolean) => {
      for (const deadline = Date.now() + 5000; !cond() && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 5));
    };
    await until(() => reached); // the call reached the plugin
    ac.abort();
    await until(() => aborted !== undefined);
    expect(await call).toBe('cancelled');
    expect(aborted).toMatch(/cancel/);
  });
});
