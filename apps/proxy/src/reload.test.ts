import { Code, ConnectError } from '@connectrpc/connect';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import type { SupervisedPlugin } from './supervisor.js';
import { type Load, startLoad, startTestProxy, type TestProxy, waitFor } from './test-support.js';

const ctx = { signal: new AbortController().signal };
const bytes = (s: string) => new TextEncoder().encode(s);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** keep: never changes; swap (in-process) and side (sidecar) change with `version`; `extra` appends. */
const yaml = (version: number, extra = '') => `namespaces:
  - name: keep
    pattern: keyvalue
    backend: { type: memstore }
  - name: swap
    pattern: keyvalue
    backend: { type: memstore, config: { max_keys: ${1000 + version} } }
  - name: side
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar }, config: { max_keys: ${1000 + version} } }
${extra}`;

const nowhere =
  '  - name: nowhere\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: remote, endpoint: "http://127.0.0.1:1" } }\n';

describe('hot reload', () => {
  let test: TestProxy | undefined;
  const loads: Load[] = [];
  afterEach(async () => {
    await Promise.all(loads.splice(0).map((l) => l.stop()));
    await test?.stop();
    test = undefined;
  });

  it('swaps changed namespaces under load without failing a request; unchanged ones keep their instance', async () => {
    test = await startTestProxy(yaml(0));
    const t = test;
    await t
      .client('keep')
      .get(KeyValueBasic)
      ?.set({ namespace: 'keep', key: 'k', value: bytes('kept') } as never, ctx);
    const keepHandle = t.proxy.table.get('keep')?.handle;
    for (const ns of ['keep', 'swap', 'side']) loads.push(startLoad(t.client(ns), ns));
    const progress = () => Math.min(...loads.map((l) => l.ok));
    await waitFor(() => progress() > 50, 'load to run');

    for (let version = 1; version <= 3; version++) {
      const oldSide = t.proxy.table.get('side')?.handle as SupervisedPlugin;
      const oldPid = oldSide.pid as number;
      const oldSwap = t.proxy.table.get('swap')?.handle;
      t.write(yaml(version));
      const result = await t.proxy.reload();
      expect(result).toMatchObject({ ok: true, started: ['swap', 'side'], kept: ['keep'], removed: [] });
      expect(t.proxy.table.get('swap')?.handle).not.toBe(oldSwap);
      const newPid = (t.proxy.table.get('side')!.handle as SupervisedPlugin).pid;
      expect(newPid).not.toBe(oldPid);
      // The retired sidecar was drained, stopped and its process ended before reload() resolved.
      expect(alive(oldPid)).toBe(false);
      const before = progress();
      await waitFor(() => progress() > before + 50, `load to continue after reload ${version}`);
    }
    await Promise.all(loads.map((l) => l.stop()));
    for (const load of loads) expect(load.errors).toEqual([]);
    expect(t.proxy.table.get('keep')?.handle).toBe(keepHandle);
    const kept = await t
      .client('keep')
      .get(KeyValueBasic)
      ?.get({ namespace: 'keep', key: 'k' } as never, ctx);
    expect(kept).toMatchObject({ found: true, value: bytes('kept') });
  }, 120_000);

  it('rejects an invalid config with its errors and keeps serving the old one', async () => {
    test = await startTestProxy(yaml(0));
    const t = test;
    const kv = t.client('swap').get(KeyValueBasic);
    await kv?.set({ namespace: 'swap', key: 'k', value: bytes('v') } as never, ctx);
    const swap = t.proxy.table.get('swap')?.handle;

    t.write(`${yaml(1)}  - name: Bad_Name\n    pattern: keyvalue\n    backend: { type: memstore }\n`);
    const result = await t.proxy.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toContain(t.file);
    expect(result.error).toMatch(/namespaces\[3\]\.name/);
    expect(t.proxy.table.get('swap')?.handle).toBe(swap);
    expect(await kv?.get({ namespace: 'swap', key: 'k' } as never, ctx)).toMatchObject({ found: true });
    const metrics = await (await fetch(`${t.proxy.url}/metrics`)).text();
    expect(metrics).toContain('prism_config_reloads_total{result="invalid"} 1');
  });

  it('keeps the old config when a new namespace fails to start (proxy.require_all_backends)', async () => {
    const strict = 'proxy:\n  require_all_backends: true\n';
    test = await startTestProxy(strict + yaml(0));
    const t = test;
    t.write(strict + yaml(1, nowhere));
    const result = await t.proxy.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(
      /namespace "nowhere": remote plugin http:\/\/127\.0\.0\.1:1: Describe failed/,
    );
    expect(t.proxy.table.names()).toEqual(['keep', 'swap', 'side']);
  });

  it('serves a new namespace whose plugin is unreachable as UNAVAILABLE, and applies the rest', async () => {
    test = await startTestProxy(yaml(0));
    const t = test;
    t.write(yaml(1, nowhere));
    const result = await t.proxy.reload();
    expect(result).toMatchObject({ ok: true, started: ['swap', 'side', 'nowhere'], kept: ['keep'] });
    const kv = t.client('nowhere').get(KeyValueBasic)!;
    const err = await Promise.resolve(kv.get({ namespace: 'nowhere', key: 'k' } as never, ctx)).catch(
      (e: unknown) => ConnectError.from(e),
    );
    expect(err).toMatchObject({ code: Code.Unavailable });
    expect((err as ConnectError).rawMessage).toMatch(/namespace "nowhere" is unavailable: remote plugin/);
  });

  it('serves added namespaces and answers NOT_FOUND for removed ones', async () => {
    test = await startTestProxy(yaml(0));
    const t = test;
    const oldPid = (t.proxy.table.get('side')!.handle as SupervisedPlugin).pid as number;
    t.write(`namespaces:
  - name: keep
    pattern: keyvalue
    backend: { type: memstore }
  - name: added
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
`);
    const result = await t.proxy.reload();
    expect(result).toMatchObject({ ok: true, started: ['added'], kept: ['keep'] });
    expect([...result.removed].sort()).toEqual(['side', 'swap']);
    expect(alive(oldPid)).toBe(false);
    const added = t.client('added').get(KeyValueBasic);
    await added?.set({ namespace: 'added', key: 'a', value: bytes('1') } as never, ctx);
    const side = t.client('side').get(KeyValueBasic);
    const err = await Promise.resolve()
      .then(() => side?.get({ namespace: 'side', key: 'a' } as never, ctx))
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).rawMessage).toMatch(/namespace "side" is not configured/);
  });
});
