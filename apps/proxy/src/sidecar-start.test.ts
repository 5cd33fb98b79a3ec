import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@prism/config';
import { createLogger, createPluginTransport, lifecycleClient } from '@prism/sdk';
import { PluginCatalog } from './catalog.js';
import { KNOWN_INTERFACES } from './interfaces.js';
import { resolvePluginBin, startSidecar } from './sidecar.js';

const work = mkdtempSync(join(tmpdir(), 'prism-sidecar-start-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Writes `node_modules/<name>/package.json` (and files) under `work`. */
function fakePackage(name: string, pkg: Record<string, unknown>, files: Record<string, string> = {}): void {
  const dir = join(work, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, ...pkg }));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
}
const backend = (type: string, pkg?: string) => ({
  type,
  plugin: { mode: 'sidecar' as const, ...(pkg ? { package: pkg } : {}) },
  config: {},
});
const configFile = join(work, 'prism.yaml');

describe('resolvePluginBin', () => {
  it('picks the bin named prism-plugin-<type>, relative to its package', () => {
    fakePackage(
      'multi',
      { bin: { other: './o.js', 'prism-plugin-multi': './p.js' } },
      { 'p.js': '', 'o.js': '' },
    );
    expect(resolvePluginBin(backend('multi', 'multi'), configFile)).toEqual({
      packageName: 'multi',
      file: join(work, 'node_modules/multi/p.js'),
    });
  });

  it('explains a package without a bin, an ambiguous one and a missing one', () => {
    fakePackage('nobin', {});
    expect(() => resolvePluginBin(backend('nobin', 'nobin'), configFile)).toThrow(
      /package "nobin" has no "bin"; a sidecar needs a bin that calls servePlugin\(plugin\)/,
    );
    fakePackage('two', { bin: { a: './a.js', b: './b.js' } });
    expect(() => resolvePluginBin(backend('two', 'two'), configFile)).toThrow(
      /several bins \(a, b\) and none named prism-plugin-two/,
    );
    expect(() => resolvePluginBin(backend('ghost', 'ghost-package'), configFile)).toThrow(
      /cannot find plugin package "ghost-package"/,
    );
    fakePackage('unbuilt', { bin: './dist/bin.js' });
    expect(() => resolvePluginBin(backend('unbuilt', 'unbuilt'), configFile)).toThrow(
      /does not exist \(build the package first\)/,
    );
  });
});

describe('startSidecar', () => {
  it('fails fast with the output of a plugin process that exits before it is ready, leaving no temp dir', async () => {
    fakePackage(
      'crashy',
      { bin: './bin.js' },
      { 'bin.js': "console.error('crashy: cannot reach the moon'); process.exit(3);\n" },
    );
    const catalog = new PluginCatalog([]);
    await catalog.load(['memstore'], new Map([['memstore', '@prism/adapter-memstore']]));
    const [namespace] = parseConfig(
      'namespaces:\n  - name: moon\n    pattern: keyvalue\n    backend: { type: memstore }\n',
      {
        file: configFile,
        catalog,
      },
    ).namespaces;
    // A private TMPDIR, so the check below sees only this sidecar's directory.
    const privateTmp = join(work, 'tmp');
    mkdirSync(privateTmp);
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    const started = startSidecar({
      namespace: namespace as NonNullable<typeof namespace>,
      bin: resolvePluginBin(backend('crashy', 'crashy'), configFile),
      interfaces: KNOWN_INTERFACES,
      logger: createLogger({ name: 'test', level: 'silent' }),
      readMaxBytes: 1024 * 1024,
    });
    await expect(started).rejects.toThrow(
      /namespace "moon": sidecar crashy \(pid \d+\): exited \(code 3, signal null\) before it was ready:\ncrashy: cannot reach the moon/,
    );
    process.env.TMPDIR = savedTmp;
    if (savedTmp === undefined) delete process.env.TMPDIR;
    expect(readdirSync(privateTmp)).toEqual([]);
  });
});

describe('a sidecar on TCP (plugin.endpoint)', () => {
  it('serves through the proxy like the Unix-socket default', async () => {
    const { startTestProxy } = await import('./test-support.js');
    const net = await import('node:net');
    // A free port for the sidecar to listen on.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as import('node:net').AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const test = await startTestProxy(
      `namespaces:\n  - name: tcp\n    pattern: keyvalue\n    backend: { type: memstore, plugin: { mode: sidecar, endpoint: "http://127.0.0.1:${port}" } }\n`,
    );
    try {
      const kv = test
        .client('tcp')
        .interfaces.get('prism.keyvalue.v1.KeyValueBasicInterface') as unknown as Record<
        string,
        (req: unknown, ctx: { signal: AbortSignal }) => Promise<{ found?: boolean }>
      >;
      const ctx = { signal: new AbortController().signal };
      await kv.set?.({ namespace: 'tcp', key: 'k', value: new Uint8Array([1]) }, ctx);
      expect((await kv.get?.({ namespace: 'tcp', key: 'k' }, ctx))?.found).toBe(true);
      // The sidecar itself answers on that port.
      const direct = createPluginTransport({ url: `http://127.0.0.1:${port}` });
      expect((await lifecycleClient(direct).describe({})).name).toBe('memstore');
      direct.close();
    } finally {
      await test.stop();
    }
  });
});
