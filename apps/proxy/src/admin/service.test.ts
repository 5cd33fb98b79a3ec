import { readFileSync } from 'node:fs';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { type Client, Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { startTestProxy, type TestProxy, waitFor } from '../test-support.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);
const PROXY_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const yaml = (extra = '') => `proxy:
  admin: { listen: "127.0.0.1:0" }
namespaces:
  - name: mem
    pattern: keyvalue
    limits: { max_key_bytes: 128, rate: { requests_per_second: 1000, burst: 50 }, max_concurrent: 64 }
    backend: { type: memstore, config: { max_keys: 500 } }
  - name: ps
    pattern: pubsub
    backend: { type: memstore }
${extra}`;

async function codeOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

describe('prism.admin.v1.AdminService', () => {
  let test: TestProxy | undefined;
  afterEach(async () => {
    await test?.stop();
    test = undefined;
  });
  const adminOf = (t: TestProxy): Client<typeof AdminService> =>
    createClient(AdminService, createGrpcTransport({ baseUrl: t.proxy.adminUrl as string }));

  it('has no admin listener unless proxy.admin is set', async () => {
    test = await startTestProxy('namespaces: []\n');
    expect(test.proxy.adminUrl).toBeUndefined();
  });

  it('GetVersion: the package version, Node version, commit (PRISM_COMMIT), pid and config file', async () => {
    process.env.PRISM_COMMIT = 'abc1234';
    try {
      test = await startTestProxy(yaml());
      expect(test.proxy.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(test.proxy.adminUrl).not.toBe(test.proxy.url);
      const v = await adminOf(test).getVersion({});
      expect(v).toMatchObject({
        version: PROXY_VERSION,
        nodeVersion: process.version,
        commit: 'abc1234',
        pid: process.pid,
        configFile: test.file,
      });
      expect(v.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(Date.now() - timestampDate(v.startedAt!).getTime()).toBeLessThan(60_000);
    } finally {
      delete process.env.PRISM_COMMIT;
    }
    // Without PRISM_COMMIT the field is empty, so JSON leaves it out.
    const t = test as TestProxy;
    const json = await fetch(`${t.proxy.adminUrl}/prism.admin.v1.AdminService/GetVersion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(200);
    const body = (await json.json()) as Record<string, unknown>;
    expect(body.version).toBe(PROXY_VERSION);
    expect(body).not.toHaveProperty('commit');
  });

  it('ListNamespaces and DescribeNamespace: backend, interfaces, health with details, limits', async () => {
    test = await startTestProxy(yaml());
    const admin = adminOf(test);
    await test
      .client('mem')
      .get(KeyValueBasic)
      ?.set({ namespace: 'mem', key: 'k', value: bytes('v') } as never, ctx);

    const { namespaces } = await admin.listNamespaces({});
    expect(namespaces.map((n) => ({ ...n, $typeName: undefined }))).toEqual([
      {
        $typeName: undefined,
        name: 'mem',
        pattern: 'keyvalue',
        backendType: 'memstore',
        pluginMode: 'in_process',
        health: 'healthy',
        state: 'running',
      },
      {
        $typeName: undefined,
        name: 'ps',
        pattern: 'pubsub',
        backendType: 'memstore',
        pluginMode: 'in_process',
        health: 'healthy',
        state: 'running',
      },
    ]);

    const { namespace } = await admin.describeNamespace({ namespace: 'mem' });
    expect(namespace).toMatchObject({
      name: 'mem',
      pattern: 'keyvalue',
      needs: ['keyvalue_basic'],
      backend: { type: 'memstore', pluginMode: 'in_process', endpoint: '', package: '', tls: false },
      health: { status: 'healthy' },
      limits: {
        maxKeyBytes: 128,
        maxConcurrent: 64,
        rate: { requestsPerSecond: 1000, burst: 50, per: 'namespace' },
      },
      plugin: { namespace: 'mem', state: 'running', plugin: 'memstore', pid: 0, restarts: 0 },
      source: `${test.file}:4`,
    });
    expect(namespace?.interfaces).toContain('prism.keyvalue.v1.KeyValueBasicInterface');
    expect(namespace?.flavours).toContain('keyvalue_basic');
    expect(namespace?.flavours).toHaveLength(namespace?.interfaces.length ?? -1);
    // MemStore reports its key count and capacity in the health details.
    expect(namespace?.health?.details).toMatchObject({ keys: '1', max_keys: '500' });

    const missing = await codeOf(admin.describeNamespace({ namespace: 'nope' }));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.rawMessage).toMatch(/namespace "nope" is not configured \(configured: mem, ps\)/);
    expect((await codeOf(admin.getPluginStatus({ namespace: '' }))).code).toBe(Code.InvalidArgument);
  });

  it('ListPlugins, GetPluginStatus and RestartPlugin of an in-process plugin (a new instance)', async () => {
    test = await startTestProxy(yaml());
    const admin = adminOf(test);
    const kv = test.client('mem').get(KeyValueBasic);
    await kv?.set({ namespace: 'mem', key: 'k', value: bytes('v') } as never, ctx);

    const { plugins } = await admin.listPlugins({});
    expect(plugins.map((p) => [p.namespace, p.pluginMode, p.state, p.pid, p.restarts])).toEqual([
      ['mem', 'in_process', 'running', 0, 0],
      ['ps', 'in_process', 'running', 0, 0],
    ]);
    const before = test.proxy.table.get('mem')?.handle;
    const res = await admin.restartPlugin({ namespace: 'mem' });
    expect(res).toMatchObject({
      action: 'in-process instance re-created',
      previousPid: 0,
      plugin: { namespace: 'mem', state: 'running', restarts: 1 },
    });
    expect(test.proxy.table.get('mem')?.handle).not.toBe(before);
    // A new MemStore instance: the key is gone; the namespace serves.
    expect(await kv?.get({ namespace: 'mem', key: 'k' } as never, ctx)).toMatchObject({ found: false });
    const { plugin } = await admin.getPluginStatus({ namespace: 'mem' });
    expect(plugin).toMatchObject({ restarts: 1, state: 'running', lastError: '' });
    expect(plugin?.uptimeSeconds).toBeLessThan(30);
    expect((await codeOf(admin.restartPlugin({ namespace: 'nope' }))).code).toBe(Code.NotFound);
  });

  it('ReloadConfig applies a valid file and returns an invalid one’s problems (not an RPC error)', async () => {
    test = await startTestProxy(yaml());
    const admin = adminOf(test);
    test.write(yaml('  - name: added\n    pattern: keyvalue\n    backend: { type: memstore }\n'));
    const ok = await admin.reloadConfig({});
    expect(ok).toMatchObject({
      ok: true,
      error: '',
      problems: [],
      started: ['added'],
      kept: ['mem', 'ps'],
      removed: [],
      configFile: test.file,
    });
    expect(test.proxy.table.names()).toEqual(['mem', 'ps', 'added']);

    test.write(yaml('  - name: Bad_Name\n    pattern: keyvalue\n    backend: { type: memstore }\n'));
    const bad = await admin.reloadConfig({});
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain(test.file);
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatchObject({ file: test.file, field: 'namespaces[2].name', line: 11 });
    expect(bad.problems[0]?.message).toMatch(/1-63 characters/);
    expect(bad.kept).toEqual(['mem', 'ps', 'added']);
    // The previous config keeps serving.
    expect(test.proxy.table.names()).toEqual(['mem', 'ps', 'added']);
    const metrics = await (await fetch(`${test.proxy.url}/metrics`)).text();
    expect(metrics).toContain('prism_config_reloads_total{result="invalid"} 1');
  });

  it('Drain: NOT_SERVING, no new client connections, streams ended with counts; the admin port stays', async () => {
    test = await startTestProxy(yaml());
    const t = test;
    const admin = adminOf(t);
    const client = createGrpcTransport({ baseUrl: t.proxy.url });
    const sub = createClient(PubSubBasicInterface, client).subscribe({ namespace: 'ps', topic: 't' });
    const it = sub[Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe('subscribed');
    const ended = it.next().then(
      () => undefined,
      (err: unknown) => ConnectError.from(err),
    );
    await waitFor(() => t.proxy.pipeline.streams === 1, 'the stream to be counted');

    const report = await admin.drain({ timeoutMs: 2000 });
    expect(report).toMatchObject({
      callsInFlight: 1,
      streamsInFlight: 1,
      streamsEnded: 1,
      callsCut: 0,
      alreadyDrained: false,
      exiting: false,
    });
    expect(report.durationMs).toBeLessThan(5000);
    expect((await ended)?.code).toBe(Code.Unavailable);
    // Health (also served on the admin port) says NOT_SERVING; the admin API still answers.
    expect(
      (await createClient(Health, createGrpcTransport({ baseUrl: t.proxy.adminUrl! })).check({})).status,
    ).toBe(Status.NOT_SERVING);
    expect((await admin.getVersion({})).version).toBe(PROXY_VERSION);
    // The client port takes no new connection.
    const fresh = createConnectTransport({ baseUrl: t.proxy.url, httpVersion: '1.1' });
    const refused = await codeOf(
      createClient(PubSubBasicInterface, fresh).publish({ namespace: 'ps', topic: 't' }),
    );
    // connect-node reports a refused connection as INTERNAL; the cause names it.
    expect(refused.rawMessage).toMatch(/ECONNREFUSED/);
    // Once only: a second Drain reports the first.
    expect(await admin.drain({})).toMatchObject({ alreadyDrained: true, streamsEnded: 1 });
  });

  it('Drain with exit answers, then shuts the proxy down (onExit; default shutdown)', async () => {
    test = await startTestProxy(yaml());
    const t = test;
    const admin = adminOf(t);
    const res = await admin.drain({ exit: true });
    expect(res).toMatchObject({ exiting: true, callsInFlight: 0, alreadyDrained: false });
    // Shutdown closes the admin listener too.
    await waitFor(async () => {
      const probe = createConnectTransport({ baseUrl: t.proxy.adminUrl!, httpVersion: '1.1' });
      const err = await codeOf(createClient(AdminService, probe).getVersion({})).catch(() => undefined);
      return /ECONNREFUSED/.test(err?.rawMessage ?? '');
    }, 'the admin listener to close');
  });
});
