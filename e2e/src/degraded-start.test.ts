import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { freePort, type RedisTestServer, startRedis } from '@prism/testing';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

// The proxy process with one backend down at start: it serves what it can, and the down namespace
// comes up by itself (default backoff) once its Redis does. With require_all_backends it exits 1.

const yaml = (port: number, proxy = '') => `${proxy}namespaces:
  - name: mem
    pattern: keyvalue
    backend: { type: memstore }
  - name: cache
    pattern: keyvalue
    backend: { type: redis, config: { url: "redis://127.0.0.1:${port}" } }
  - name: side
    pattern: keyvalue
    backend: { type: redis, plugin: { mode: sidecar }, config: { url: "redis://127.0.0.1:${port}" } }
`;

describe('prism-proxy process with a backend down at start', () => {
  let dir: string;
  let port: number;
  let proxy: ProxyProcess | undefined;
  let redis: RedisTestServer | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prism-e2e-degraded-'));
    port = await freePort();
  });
  afterAll(async () => {
    await proxy?.stop();
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its banner and serves the healthy namespace; the down one recovers when Redis starts', async () => {
    const file = join(dir, 'prism.yaml');
    writeFileSync(file, yaml(port));
    proxy = await startProxyProcess(file);
    const running = proxy;
    for (const end = Date.now() + 5000; !/namespaces: .*\n/.test(running.output()) && Date.now() < end; )
      await new Promise((r) => setTimeout(r, 20));
    expect(proxy.output()).toMatch(/cache \(redis, in_process, unavailable: backend unreachable, retrying\)/);
    const transport = createGrpcTransport({ baseUrl: proxy.url });
    const kv = createClient(KeyValueBasicInterface, transport);
    const health = createClient(Health, transport);

    await kv.set({ namespace: 'mem', key: 'a', value: new Uint8Array([1]) });
    const err = await kv.get({ namespace: 'cache', key: 'a' }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toContain(`127.0.0.1:${port}`);
    expect((await health.check({ service: 'cache' })).status).toBe(Status.NOT_SERVING);
    expect((await health.check({ service: 'side' })).status).toBe(Status.NOT_SERVING);
    expect((await health.check({ service: 'mem' })).status).toBe(Status.SERVING);

    redis = await startRedis({ port });
    const deadline = Date.now() + 45_000;
    for (const namespace of ['cache', 'side'])
      while ((await health.check({ service: namespace })).status !== Status.SERVING) {
        if (Date.now() > deadline) throw new Error(`${namespace} did not recover:\n${proxy.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    await kv.set({ namespace: 'cache', key: 'b', value: new TextEncoder().encode('up') });
    expect(await redis.command('GET', 'cache:b')).toBe('up');
  }, 90_000);

  it('exits 1 with the cause when proxy.require_all_backends is set', async () => {
    const dead = await freePort();
    const file = join(dir, 'strict.yaml');
    writeFileSync(file, yaml(dead, 'proxy:\n  require_all_backends: true\n'));
    const err = await startProxyProcess(file).then(
      (p) => {
        void p.stop();
        return new Error('expected the proxy to exit');
      },
      (e: Error) => e,
    );
    expect(err.message).toMatch(/exited with 1/);
    expect(err.message).toMatch(/prism-proxy failed to start: (\[unavailable\] )?namespace "cache"/);
    expect(err.message).toContain(`127.0.0.1:${dead}`);
  });
});
