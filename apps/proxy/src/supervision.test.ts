import { createClient } from '@connectrpc/connect';
import { afterEach, describe, expect, it } from '@jest/globals';
import memstorePlugin from '@prism/adapter-memstore';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { createPluginTransport, type PluginServer, servePlugin } from '@prism/sdk';
import type { SupervisedPlugin } from './supervisor.js';
import { type Load, startLoad, startTestProxy, type TestProxy, waitFor } from './test-support.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('plugin supervision', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const healthOf = async (test: TestProxy, service: string) => {
    const transport = createPluginTransport({ url: test.proxy.url });
    try {
      return (await createClient(Health, transport).check({ service })).status;
    } finally {
      transport.close();
    }
  };
  const metricsText = async (test: TestProxy) => (await fetch(`${test.proxy.url}/metrics`)).text();

  it('restarts a SIGKILLed sidecar (new pid) while another namespace sees no error', async () => {
    const test = await startTestProxy(`namespaces:
  - name: victim
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
  - name: bystander
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
`);
    const loads: Load[] = [];
    cleanups.push(async () => {
      await Promise.all(loads.map((l) => l.stop()));
      await test.stop();
    });
    const victim = test.proxy.table.get('victim')?.handle as SupervisedPlugin;
    const oldPid = victim.pid as number;
    expect(alive(oldPid)).toBe(true);
    const onVictim = startLoad(test.client('victim'), 'victim');
    const onBystander = startLoad(test.client('bystander'), 'bystander');
    loads.push(onVictim, onBystander);
    await waitFor(() => onVictim.ok > 100 && onBystander.ok > 100, 'load to run');

    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => victim.up && victim.pid !== undefined && victim.pid !== oldPid, 'a new sidecar');
    const okAtRestart = onVictim.ok;
    await waitFor(() => onVictim.ok > okAtRestart + 100, 'the victim namespace to serve again');
    const bystanderOk = onBystander.ok;
    await waitFor(() => onBystander.ok > bystanderOk + 100, 'more bystander calls after the restart');
    await onVictim.stop();
    await onBystander.stop();

    expect(alive(oldPid)).toBe(false);
    expect(victim.restarts).toBe(1);
    expect(onBystander.errors).toEqual([]);
    // Calls caught by the crash fail as UNAVAILABLE (retryable), never hang or turn into other codes.
    for (const e of onVictim.errors) expect(e).toMatch(/^Unavailable: /);
    expect(await healthOf(test, 'victim')).toBe(Status.SERVING);
    const metrics = await metricsText(test);
    expect(metrics).toContain('prism_plugin_restarts_total{namespace="victim"} 1');
    expect(metrics).toContain('prism_plugin_restarts_total{namespace="bystander"} 0');
    expect(metrics).toMatch(
      /prism_requests_total\{namespace="bystander",interface="keyvalue_basic",method="Get",code="OK"\} [1-9]/,
    );
  }, 120_000);

  it('answers UNAVAILABLE at once while a remote plugin is down, reports it in health, and reconnects', async () => {
    let server: PluginServer = await servePlugin(memstorePlugin, { port: 0 });
    const port = server.port as number;
    const test = await startTestProxy(`namespaces:
  - name: far
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: remote, endpoint: "${server.url}" } }
  - name: near
    pattern: keyvalue
    backend: { type: memstore }
`);
    cleanups.push(async () => {
      await test.stop();
      await server.close();
    });
    const far = test.proxy.table.get('far')?.handle as SupervisedPlugin;
    const ctx = { signal: new AbortController().signal };
    const kvFar = test
      .client('far')
      .interfaces.get('prism.keyvalue.v1.KeyValueBasicInterface') as unknown as Record<
      string,
      (req: unknown, c: typeof ctx) => Promise<unknown>
    >;
    await kvFar.set?.({ namespace: 'far', key: 'k', value: new Uint8Array([1]) }, ctx);
    expect(await healthOf(test, 'far')).toBe(Status.SERVING);

    const onNear = startLoad(test.client('near'), 'near');
    cleanups.push(() => onNear.stop());
    await server.close();
    await waitFor(async () => !far.up, 'the supervisor to notice the plugin is gone');
    expect(await healthOf(test, 'far')).toBe(Status.NOT_SERVING);
    expect(await healthOf(test, 'near')).toBe(Status.SERVING);
    const err = await kvFar.get?.({ namespace: 'far', key: 'k' }, ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /\[unavailable\] namespace "far": its plugin \(remote plugin .*\) is down and restarting/,
    );

    // The plugin comes back empty (a new process would too): the proxy initializes a new instance.
    server = await servePlugin(memstorePlugin, { port });
    await waitFor(() => far.up, 'the remote plugin to be re-attached');
    expect(far.restarts).toBe(1);
    expect(await kvFar.exists?.({ namespace: 'far', key: 'k' }, ctx)).toMatchObject({ exists: false });
    await onNear.stop();
    expect(onNear.errors).toEqual([]);
    expect(onNear.ok).toBeGreaterThan(0);
  }, 90_000);
});
