import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { createLogger } from '@prism/sdk';
import { freePort, type RedisTestServer, startRedis } from '@prism/testing';
import { loadProxyConfig } from './load.js';
import { type RunningProxy, startProxy } from './server.js';
import { waitFor } from './test-support.js';

// One backend down at start must not stop the proxy: the other namespaces serve, the down one answers
// UNAVAILABLE with its cause and is NOT_SERVING until its backend comes up. Real Redis, real sidecars.

/** Short backoff so recovery is quick in tests (production: 500 ms doubling to 30 s). */
const RETRY = { minDelayMs: 100, maxDelayMs: 400 };
const bytes = (s: string) => new TextEncoder().encode(s);
const work = mkdtempSync(join(tmpdir(), 'prism-degraded-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Log lines (JSON) the proxy wrote. */
const lines: { level: number; msg: string; namespace?: string; err?: string; attempt?: number }[] = [];
const logger = createLogger({
  name: 'degraded-test',
  level: 'info',
  stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
});

const yaml = (port: number, proxy = '') => `${proxy}namespaces:
  - name: mem
    pattern: keyvalue
    backend: { type: memstore }
  - name: cache
    pattern: keyvalue
    backend: { type: redis, config: { url: "redis://127.0.0.1:${port}", connect_timeout_ms: 1000 } }
  - name: side
    pattern: keyvalue
    backend: { type: redis, plugin: { mode: sidecar }, config: { url: "redis://127.0.0.1:${port}/1", connect_timeout_ms: 1000 } }
`;

async function start(text: string, name: string): Promise<{ proxy: RunningProxy; file: string }> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, text);
  const { config, catalog } = await loadProxyConfig(file);
  const proxy = await startProxy({
    config,
    catalog,
    port: 0,
    host: '127.0.0.1',
    configFile: file,
    logger,
    backendRetry: RETRY,
  });
  return { proxy, file };
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err),
  );

describe('a backend that is down when the proxy starts', () => {
  let port: number;
  let proxy: RunningProxy | undefined;
  let redis: RedisTestServer | undefined;
  beforeAll(async () => {
    port = await freePort();
  });
  afterEach(async () => {
    await proxy?.shutdown();
    proxy = undefined;
    await redis?.dispose();
    redis = undefined;
  });

  it('does not stop the proxy: healthy namespaces serve, the others answer UNAVAILABLE and recover', async () => {
    const t0 = Date.now();
    ({ proxy } = await start(yaml(port), 'mixed'));
    expect(Date.now() - t0).toBeLessThan(15_000);
    const transport = createGrpcTransport({ baseUrl: proxy.url });
    const kv = createClient(KeyValueBasicInterface, transport);
    const health = createClient(Health, transport);

    await kv.set({ namespace: 'mem', key: 'a', value: bytes('1') });
    expect((await kv.get({ namespace: 'mem', key: 'a' })).value).toEqual(bytes('1'));
    expect((await health.check({ service: '' })).status).toBe(Status.SERVING);
    expect((await health.check({ service: 'mem' })).status).toBe(Status.SERVING);

    for (const namespace of ['cache', 'side']) {
      const err = await errorOf(kv.get({ namespace, key: 'a' }));
      expect(err?.code).toBe(Code.Unavailable);
      expect(err?.rawMessage).toContain(`namespace "${namespace}"`);
      expect(err?.rawMessage).toMatch(/ECONNREFUSED|unavailable|refused/i);
      expect(err?.rawMessage).toContain(`127.0.0.1:${port}`);
      expect((await health.check({ service: namespace })).status).toBe(Status.NOT_SERVING);
    }
    // Each failed attempt is logged once, at warn, with its cause.
    await waitFor(
      () => lines.some((l) => l.namespace === 'cache' && l.level === 40 && (l.attempt ?? 0) >= 1),
      'a logged retry',
    );
    const warned = lines.filter((l) => l.namespace === 'cache' && l.level === 40);
    expect(warned[0]?.err).toContain(`127.0.0.1:${port}`);

    // The backend comes up on that port: both namespaces serve within a few seconds, health turns SERVING.
    redis = await startRedis({ port });
    const serves = (namespace: string) =>
      kv.set({ namespace, key: 'k', value: bytes(namespace) }).then(
        () => true,
        () => false,
      );
    await waitFor(() => serves('cache'), 'cache to serve', 10_000);
    await waitFor(() => serves('side'), 'side to serve', 15_000);
    expect((await health.check({ service: 'cache' })).status).toBe(Status.SERVING);
    expect((await health.check({ service: 'side' })).status).toBe(Status.SERVING);
    // Really in Redis, in each namespace's own place.
    expect(await redis.command('GET', 'cache:k')).toBe('cache');
    expect((await kv.get({ namespace: 'side', key: 'k' })).value).toEqual(bytes('side'));
  });

  it('fails the start with the cause when proxy.require_all_backends is set', async () => {
    await expect(start(yaml(port, 'proxy:\n  require_all_backends: true\n'), 'strict')).rejects.toThrow(
      /namespace "cache".*127\.0\.0\.1/s,
    );
  });

  it('still fails the start when the backend refuses the credentials (not an outage)', async () => {
    redis = await startRedis({ password: 'the-right-secret' });
    const text = `${yaml(port)}  - name: locked
    pattern: keyvalue
    backend: { type: redis, config: { url: "${redis.url}", password: "not-the-secret" } }
`;
    await expect(start(text, 'locked')).rejects.toMatchObject({
      code: Code.Unauthenticated,
      message: expect.stringContaining('namespace "locked"'),
    });
  });

  it('stops retrying at shutdown, and a reload replaces a degraded namespace', async () => {
    let file: string;
    ({ proxy, file } = await start(yaml(port), 'reload'));
    const kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
    expect((await errorOf(kv.get({ namespace: 'cache', key: 'a' })))?.code).toBe(Code.Unavailable);

    // Point the namespace at a live Redis and reload: served at once, no waiting for a retry.
    redis = await startRedis();
    writeFileSync(file, yaml(port).replace(`url: "redis://127.0.0.1:${port}", `, `url: "${redis.url}", `));
    const result = await proxy.reload();
    expect(result.ok).toBe(true);
    expect(result.started).toContain('cache');
    await kv.set({ namespace: 'cache', key: 'r', value: bytes('reloaded') });
    expect(await redis.command('GET', 'cache:r')).toBe('reloaded');
    // `side` is still down (same dead port): the reload kept it degraded rather than failing.
    expect((await errorOf(kv.get({ namespace: 'side', key: 'a' })))?.code).toBe(Code.Unavailable);

    await proxy.shutdown();
    proxy = undefined;
    const after = lines.length;
    // No retry may log after shutdown: watch for twice the longest retry delay.
    await new Promise((r) => setTimeout(r, RETRY.maxDelayMs * 2));
    const late = lines.slice(after).filter((l) => l.namespace === 'side' && l.level === 40);
    expect(late).toEqual([]);
  });
});
