import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasicInterface } from '@prism/keyvalue-basic';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

const yaml = (extra = '') => `namespaces:
  - name: side
    pattern: keyvalue
    backend: { type: memstore, plugin: { mode: sidecar } }
  - name: local
    pattern: keyvalue
    backend: { type: memstore }
${extra}`;

/** Child pids of a process (Linux /proc). */
const children = (pid: number): number[] => {
  const file = `/proc/${pid}/task/${pid}/children`;
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (let i = 0; !(await cond()); i++) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** i, 200)));
  }
}

describe('prism-proxy process with a sidecar plugin', () => {
  let dir: string;
  let file: string;
  let proxy: ProxyProcess;
  let kv: ReturnType<typeof createClient<typeof KeyValueBasicInterface>>;
  const ok = (namespace: string) =>
    kv.exists({ namespace, key: 'x' }).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prism-e2e-plugins-'));
    file = join(dir, 'prism.yaml');
    writeFileSync(file, yaml());
    proxy = await startProxyProcess(file);
    kv = createClient(KeyValueBasicInterface, createGrpcTransport({ baseUrl: proxy.url }));
  });
  afterAll(async () => {
    await proxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves through the sidecar and restarts it after SIGKILL without a proxy restart', async () => {
    await kv.set({ namespace: 'side', key: 'k', value: new Uint8Array([1]) });
    expect((await kv.get({ namespace: 'side', key: 'k' })).found).toBe(true);
    const [sidecar] = children(proxy.child.pid as number);
    expect(sidecar).toBeDefined();
    process.kill(sidecar as number, 'SIGKILL');
    await waitFor(async () => {
      const now = children(proxy.child.pid as number);
      return now.length === 1 && now[0] !== sidecar && (await ok('side'));
    }, 'a new sidecar serving');
    expect(await ok('local')).toBe(true);
  });

  it('reloads the YAML on SIGHUP, rejecting an invalid one', async () => {
    writeFileSync(file, 'namespaces: [');
    proxy.child.kill('SIGHUP');
    await waitFor(() => proxy.output().includes('reload rejected'), 'the rejection');
    expect(await ok('side')).toBe(true);

    writeFileSync(
      file,
      yaml(
        '  - name: extra\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: sidecar } }\n',
      ),
    );
    proxy.child.kill('SIGHUP');
    await waitFor(() => proxy.output().includes('reloaded: started extra'), 'the reload');
    expect(await ok('extra')).toBe(true);
    expect(children(proxy.child.pid as number)).toHaveLength(2);
  });

  it('stops its sidecars on SIGTERM', async () => {
    const sidecars = children(proxy.child.pid as number);
    expect(await proxy.stop('SIGTERM')).toBe(0);
    await waitFor(() => sidecars.every((pid) => !alive(pid)), 'sidecars to exit');
  });
});
