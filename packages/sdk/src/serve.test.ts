import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface, SetRequestSchema } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { HealthStatus } from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import { z } from 'zod';
import { connectPlugin, createPluginTransport, lifecycleClient } from './client.js';
import { defineInterface, implement } from './interface.js';
import { checkKey } from './limits.js';
import { definePlugin } from './plugin.js';
import { type PluginServer, servePlugin } from './serve.js';

const KV = defineInterface(
  'keyvalue_basic',
  KeyValueBasicInterface,
  { set: 'write', get: 'read', delete: 'write', exists: 'read' },
  {
    set: (req, limits) => checkKey(req.key, limits),
  },
);

/** Lets the test hold one call in flight (key "slow") until it releases it. */
let entered: () => void = () => {};
let release: () => void = () => {};
const slowEntered = () => new Promise<void>((r) => (entered = r));

// A real (tiny) plugin: a Map per instance. It is the thing under test's payload, not a mock of a backend.
const mapPlugin = definePlugin({
  name: 'maptest',
  version: '1.2.3',
  interfaces: [KV],
  configSchema: z.object({
    prefix: z.string().default(''),
    pool: z.object({ size: z.number().int().positive() }).optional(),
  }),
  create: (config) => {
    const data = new Map<string, Uint8Array>();
    return {
      bindings: [
        implement(KV, {
          set: (req) => {
            data.set(config.prefix + req.key, req.value);
            return {};
          },
          get: async (req) => {
            if (req.key === 'slow') {
              entered();
              await new Promise<void>((r) => (release = r));
            }
            const value = data.get(config.prefix + req.key);
            return value ? { found: true, value } : { found: false };
          },
          delete: (req) => ({ deleted: data.delete(config.prefix + req.key) }),
          exists: (req) => ({ exists: data.has(config.prefix + req.key) }),
        }),
      ],
      health: () => ({ status: 'degraded', message: 'just testing', details: { keys: String(data.size) } }),
    };
  },
});

const codeOf = async (fn: () => Promise<unknown>): Promise<string> => {
  try {
    await fn();
  } catch (err) {
    return Code[ConnectError.from(err).code] as string;
  }
  return 'OK';
};
const bytes = (s: string) => new TextEncoder().encode(s);

describe('servePlugin on a Unix socket', () => {
  let dir: string;
  let server: PluginServer;
  const transport = () => createPluginTransport({ socket: server.socket as string });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prism-serve-'));
    server = await servePlugin(mapPlugin, { socket: join(dir, 'plugin.sock') });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0600', () => {
    expect(statSync(server.socket as string).mode & 0o777).toBe(0o600);
  });

  it('describes the plugin and its interfaces', async () => {
    const res = await lifecycleClient(transport()).describe({});
    expect(res.name).toBe('maptest');
    expect(res.version).toBe('1.2.3');
    expect(res.interfaces).toEqual(['prism.keyvalue.v1.KeyValueBasicInterface']);
    expect(res.flavours).toEqual(['keyvalue_basic']);
  });

  it('rejects an invalid config with the field path', async () => {
    const lc = lifecycleClient(transport());
    const err = await lc
      .initialize({ namespace: 'ns', configJson: JSON.stringify({ pool: { size: -1 } }) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect(Code[(err as ConnectError).code]).toBe('InvalidArgument');
    expect((err as ConnectError).rawMessage).toContain('pool.size');
    expect(await codeOf(() => lc.initialize({ namespace: 'ns', configJson: '{nope' }))).toBe(
      'InvalidArgument',
    );
    expect(await codeOf(() => lc.initialize({ namespace: '', configJson: '{}' }))).toBe('InvalidArgument');
  });

  it('runs the lifecycle: calls fail before Start, work after, drain waits for in-flight calls', async () => {
    const lc = lifecycleClient(transport());
    const init = await lc.initialize({
      namespace: 'ns1',
      configJson: '{"prefix":"p:"}',
      limits: { maxKeyBytes: 8 },
    });
    expect(init.instanceId).not.toBe('');
    const kv = connectPlugin(transport(), [KV], { namespace: 'ns1', instanceId: init.instanceId }).get(KV)!;
    const ctx = { signal: new AbortController().signal };
    expect(await codeOf(async () => kv.get({ namespace: 'ns1', key: 'a' } as never, ctx))).toBe(
      'FailedPrecondition',
    );

    await lc.start({ instanceId: init.instanceId });
    await kv.set({ namespace: 'ns1', key: 'a', value: bytes('1') } as never, ctx);
    expect(await kv.get({ namespace: 'ns1', key: 'a' } as never, ctx)).toMatchObject({
      found: true,
      value: bytes('1'),
    });
    // The limits sent in Initialize apply; the namespace must match the instance's.
    expect(await codeOf(async () => kv.set({ namespace: 'ns1', key: 'k'.repeat(9) } as never, ctx))).toBe(
      'InvalidArgument',
    );
    expect(await codeOf(async () => kv.get({ namespace: 'other', key: 'a' } as never, ctx))).toBe(
      'InvalidArgument',
    );

    const health = await lc.healthCheck({ instanceId: init.instanceId });
    expect(health.status).toBe(HealthStatus.DEGRADED);
    expect(health.details).toEqual({ keys: '1' });

    const inside = slowEntered();
    const slow = kv.get({ namespace: 'ns1', key: 'slow' } as never, ctx);
    await inside;
    const drained = lc.drain({ instanceId: init.instanceId, timeoutMs: 30_000 });
    release();
    expect(await slow).toMatchObject({ found: false });
    expect((await drained).inFlight).toBe(0);
    expect(await codeOf(async () => kv.get({ namespace: 'ns1', key: 'a' } as never, ctx))).toBe(
      'Unavailable',
    );

    await lc.stop({ instanceId: init.instanceId });
    expect(await codeOf(() => lc.healthCheck({ instanceId: init.instanceId }))).toBe('NotFound');
  });

  it('answers the same over the Connect fast unary path (values, error codes, messages)', async () => {
    const fast = createPluginTransport({ socket: server.socket as string, protocol: 'connect' });
    const lc = lifecycleClient(transport());
    const init = await lc.initialize({ namespace: 'fast', configJson: '{}', limits: { maxKeyBytes: 8 } });
    const kv = connectPlugin(fast, [KV], { namespace: 'fast', instanceId: init.instanceId }).get(KV)!;
    const ctx = { signal: new AbortController().signal };
    expect(await codeOf(async () => kv.get({ namespace: 'fast', key: 'a' } as never, ctx))).toBe(
      'FailedPrecondition',
    );
    await lc.start({ instanceId: init.instanceId });
    await kv.set({ namespace: 'fast', key: 'a', value: bytes('1') } as never, ctx);
    expect(await kv.get({ namespace: 'fast', key: 'a' } as never, ctx)).toMatchObject({
      found: true,
      value: bytes('1'),
    });
    expect(await kv.get({ namespace: 'fast', key: 'b' } as never, ctx)).toMatchObject({ found: false });
    const err = await Promise.resolve(kv.set({ namespace: 'fast', key: 'k'.repeat(9) } as never, ctx)).catch(
      (e: unknown) => ConnectError.from(e),
    );
    expect(Code[(err as ConnectError).code]).toBe('InvalidArgument');
    expect((err as ConnectError).rawMessage).toMatch(/key/);
    await lc.drain({ instanceId: init.instanceId, timeoutMs: 1000 });
    expect(await codeOf(async () => kv.get({ namespace: 'fast', key: 'a' } as never, ctx))).toBe(
      'Unavailable',
    );
    await lc.stop({ instanceId: init.instanceId });
    fast.close();
    expect(await codeOf(async () => kv.get({ namespace: 'fast', key: 'a' } as never, ctx))).toBe(
      'Unavailable',
    );
  });

  it('keeps two instances of one namespace apart (reload: old and new side by side)', async () => {
    const lc = lifecycleClient(transport());
    const a = await lc.initialize({ namespace: 'twin', configJson: '{"prefix":"a:"}' });
    const b = await lc.initialize({ namespace: 'twin', configJson: '{"prefix":"b:"}' });
    await lc.start({ instanceId: a.instanceId });
    await lc.start({ instanceId: b.instanceId });
    const ctx = { signal: new AbortController().signal };
    const kvA = connectPlugin(transport(), [KV], { namespace: 'twin', instanceId: a.instanceId }).get(KV)!;
    const kvB = connectPlugin(transport(), [KV], { namespace: 'twin', instanceId: b.instanceId }).get(KV)!;
    await kvA.set({ namespace: 'twin', key: 'x', value: bytes('A') } as never, ctx);
    expect(await kvB.exists({ namespace: 'twin', key: 'x' } as never, ctx)).toMatchObject({ exists: false });
    // Without the header, calls go to the latest started instance of the namespace.
    const plain = connectPlugin(transport(), [KV], { namespace: 'twin' }).get(KV)!;
    await plain.set({ namespace: 'twin', key: 'y', value: bytes('B') } as never, ctx);
    expect(await kvB.exists({ namespace: 'twin', key: 'y' } as never, ctx)).toMatchObject({ exists: true });
    await lc.stop({ instanceId: a.instanceId });
    await lc.stop({ instanceId: b.instanceId });
  });
});

describe("the plugin host enforces the caller's limits", () => {
  let dir: string;
  let server: PluginServer;
  let instanceId: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prism-serve-limits-'));
    server = await servePlugin(mapPlugin, { socket: join(dir, 'plugin.sock'), readMaxBytes: 1024 });
    const lc = lifecycleClient(createPluginTransport({ socket: server.socket as string }));
    instanceId = (await lc.initialize({ namespace: 'lim', configJson: '{}' })).instanceId;
    await lc.start({ instanceId });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One raw Connect unary call on the plugin socket. */
  const raw = (headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const session = http2.connect('http://localhost', {
        createConnection: () => net.connect(server.socket as string),
      });
      const req = session.request({
        ':method': 'POST',
        ':path': `/${KeyValueBasicInterface.typeName}/Set`,
        'content-type': 'application/proto',
        'connect-protocol-version': '1',
        ...headers,
      });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        session.close();
        resolve({ status, body: Buffer.concat(chunks).toString() });
      });
      req.on('error', reject);
      req.end(body);
    });
  const setRequest = (size: number) =>
    Buffer.from(
      toBinary(
        SetRequestSchema,
        create(SetRequestSchema, { namespace: 'lim', key: 'k', value: new Uint8Array(size) }),
      ),
    );

  it('refuses a request over read_max_bytes with RESOURCE_EXHAUSTED, on both doors', async () => {
    const fast = connectPlugin(
      createPluginTransport({ socket: server.socket as string, protocol: 'connect' }),
      [KV],
      {
        namespace: 'lim',
        instanceId,
      },
    ).get(KV)!;
    const grpc = connectPlugin(createPluginTransport({ socket: server.socket as string }), [KV], {
      namespace: 'lim',
      instanceId,
    }).get(KV)!;
    const ctx = { signal: new AbortController().signal };
    for (const kv of [fast, grpc]) {
      await kv.set({ namespace: 'lim', key: 'k', value: new Uint8Array(900) } as never, ctx);
      expect(
        await codeOf(async () =>
          kv.set({ namespace: 'lim', key: 'k', value: new Uint8Array(2000) } as never, ctx),
        ),
      ).toBe('ResourceExhausted');
    }
  });

  it('refuses an unsupported content-encoding with a clear error instead of decoding garbage', async () => {
    const res = await raw({ 'content-encoding': 'snappy' }, setRequest(10));
    expect(res.status).not.toBe(200);
    expect(res.body).toMatch(/snappy/);
    expect(JSON.parse(res.body).code).toBe('unimplemented');
  });

  it('aborts an implementation at the deadline the caller sent', async () => {
    const kv = connectPlugin(
      createPluginTransport({ socket: server.socket as string, protocol: 'connect' }),
      [KV],
      {
        namespace: 'lim',
        instanceId,
      },
    ).get(KV)!;
    const t0 = Date.now();
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 200 };
    const call = codeOf(async () => kv.get({ namespace: 'lim', key: 'slow' } as never, ctx));
    expect(await call).toBe('DeadlineExceeded');
    expect(Date.now() - t0).toBeLessThan(1000);
    release();
  });

  it('reports its metrics through the lifecycle Metrics call', async () => {
    const res = await lifecycleClient(createPluginTransport({ socket: server.socket as string })).metrics({});
    expect(Array.isArray(JSON.parse(res.metricsJson))).toBe(true);
  });
});
