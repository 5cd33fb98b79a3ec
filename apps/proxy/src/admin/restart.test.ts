import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterEach, describe, expect, it } from '@jest/globals';
import memstorePlugin from '@prism/adapter-memstore';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { type PluginServer, servePlugin } from '@prism/sdk';
import { type Load, startLoad, startTestProxy, waitFor } from '../test-support.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('RestartPlugin and plugin status of supervised plugins', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const start = async (namespaces: string) => {
    const test = await startTestProxy(
      `proxy:\n  admin: { listen: "127.0.0.1:0" }\nnamespaces:\n${namespaces}`,
    );
    cleanups.push(() => test.stop());
    return {
      test,
      admin: createClient(AdminService, createGrpcTransport({ baseUrl: test.proxy.adminUrl as string })),
    };
  };
  const sidecar = (name: string) =>
    `  - name: ${name}\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: sidecar } }\n`;

  it('a sidecar restart replaces its process under load without a failed call', async () => {
    const { test, admin } = await start(sidecar('side'));
    const before = (await admin.getPluginStatus({ namespace: 'side' })).plugin;
    expect(before).toMatchObject({
      pluginMode: 'sidecar',
      state: 'running',
      restarts: 0,
      plugin: 'memstore',
    });
    const oldPid = before?.pid as number;
    expect(oldPid).toBeGreaterThan(0);
    expect(alive(oldPid)).toBe(true);
    expect(before?.version).not.toBe('');

    const load: Load = startLoad(test.client('side'), 'side');
    cleanups.push(() => load.stop());
    await waitFor(() => load.ok > 50, 'load to run');
    const res = await admin.restartPlugin({ namespace: 'side' });
    expect(res.action).toBe('sidecar process replaced');
    expect(res.previousPid).toBe(oldPid);
    const newPid = res.plugin?.pid as number;
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(oldPid);
    expect(res.plugin).toMatchObject({ state: 'running', restarts: 1 });
    // The old process was drained and stopped before the answer.
    expect(alive(oldPid)).toBe(false);
    expect(alive(newPid)).toBe(true);
    const okAtRestart = load.ok;
    await waitFor(() => load.ok > okAtRestart + 50, 'load to continue on the new process');
    await load.stop();
    expect(load.errors).toEqual([]);

    const { plugins } = await admin.listPlugins({});
    expect(plugins).toHaveLength(1);
    expect(plugins[0]).toMatchObject({ namespace: 'side', pid: newPid, restarts: 1, lastError: '' });
    const metrics = await (await fetch(`${test.proxy.url}/metrics`)).text();
    expect(metrics).toContain('prism_plugin_restarts_total{namespace="side"} 1');
  }, 120_000);

  it('reports a crash: restarting with the cause, then running again with restarts counted', async () => {
    const { test, admin } = await start(sidecar('crashy'));
    const pid = (await admin.getPluginStatus({ namespace: 'crashy' })).plugin?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      const p = (await admin.getPluginStatus({ namespace: 'crashy' })).plugin;
      return p?.state === 'running' && p.pid !== pid && p.pid !== 0;
    }, 'the supervisor to restart the sidecar');
    const { plugin } = await admin.getPluginStatus({ namespace: 'crashy' });
    expect(plugin?.restarts).toBe(1);
    expect(plugin?.lastError).toMatch(/exited \(code null, signal SIGKILL\)|health check failed|lost/);
    expect(test.proxy.table.get('crashy')).toBeDefined();
  }, 120_000);

  it('re-attaches a remote plugin (a new instance on its server)', async () => {
    const server: PluginServer = await servePlugin(memstorePlugin, { port: 0 });
    cleanups.push(() => server.close());
    const { admin } = await start(
      `  - name: far\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: remote, endpoint: "${server.url}" } }\n`,
    );
    const res = await admin.restartPlugin({ namespace: 'far' });
    expect(res).toMatchObject({
      action: 'remote plugin instance replaced',
      previousPid: 0,
      plugin: { state: 'running', restarts: 1, pid: 0, endpoint: server.url, pluginMode: 'remote' },
    });
    const { namespace } = await admin.describeNamespace({ namespace: 'far' });
    expect(namespace?.backend).toMatchObject({ pluginMode: 'remote', endpoint: server.url });
    expect(namespace?.health?.status).toBe('healthy');
  }, 60_000);

  it('a namespace whose backend is unreachable: unavailable with its cause; a restart tries again', async () => {
    const { admin } = await start(
      '  - name: nowhere\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: remote, endpoint: "http://127.0.0.1:1" } }\n',
    );
    const { plugin } = await admin.getPluginStatus({ namespace: 'nowhere' });
    expect(plugin).toMatchObject({ state: 'unavailable', pid: 0, restarts: 0 });
    expect(plugin?.lastError).toMatch(/remote plugin http:\/\/127\.0\.0\.1:1/);
    const { namespaces } = await admin.listNamespaces({});
    expect(namespaces[0]).toMatchObject({ name: 'nowhere', health: 'unhealthy', state: 'unavailable' });
    const err = await admin.restartPlugin({ namespace: 'nowhere' }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
    expect(err?.rawMessage).toMatch(
      /namespace "nowhere" is still unavailable: .*; the proxy keeps starting it/,
    );
    // The restart created a new placeholder: its restart is counted.
    expect((await admin.getPluginStatus({ namespace: 'nowhere' })).plugin?.restarts).toBe(1);
  }, 60_000);
});
