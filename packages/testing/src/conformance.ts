// The conformance of a backend, bound to what its adapter declares (two-sided, like Dapr's feature check):
// every declared interface's suite runs against the real backend, and every interface it does not declare
// answers UNIMPLEMENTED through a real proxy. Adapters call `describeBackendConformance` once instead of
// listing suites by hand, so a declaration and its tests cannot drift apart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MessagingSuiteOptions } from '@prism/pubsub-basic/conformance';
import {
  createLogger,
  type InstantiateOptions,
  type InterfaceDefinition,
  instantiatePlugin,
  type PluginDefinition,
  type PluginFactory,
} from '@prism/sdk';
import { CONFORMANCE_SUITES, type SuiteContext } from './suites.js';

export { CONFORMANCE_SUITES, type ConformanceSuite, type SuiteContext } from './suites.js';

/** What {@link describeBackendConformance} needs to know about an adapter under test. */
export interface BackendConformanceOptions {
  /** The adapter (its default export). */
  readonly plugin: PluginDefinition;
  /** Its config, as a namespace's `backend.config` would give it in YAML (JSON values only). */
  readonly config: Record<string, unknown>;
  /** Makes the factory each suite uses (default: instances of `plugin` with `config`), e.g. a fresh database. */
  readonly factory?: () => PluginFactory;
  /** Backend traits the messaging suites need (`durable: false` for in-process stores, slow rebalances). */
  readonly messaging?: MessagingSuiteOptions;
}

/**
 * Runs the conformance suite of every interface `plugin` declares, and checks through a proxy that a
 * namespace on this backend answers UNIMPLEMENTED, naming the namespace and backend, for every other one.
 */
export function describeBackendConformance(label: string, options: BackendConformanceOptions): void {
  const { plugin, config } = options;
  const declared = new Set(plugin.interfaces.map((i) => i.name));
  const newFactory =
    options.factory ?? (() => (opts: InstantiateOptions) => instantiatePlugin(plugin, config, opts));
  const context: SuiteContext = { has: (name) => declared.has(name), messaging: options.messaging ?? {} };
  for (const iface of plugin.interfaces) {
    const suite = CONFORMANCE_SUITES[iface.name];
    if (!suite)
      throw new Error(`${label} declares ${iface.name}, which has no conformance suite in @prism/testing`);
    suite(label, newFactory(), context);
  }
  describeUndeclared(label, plugin, config);
}

/** The proxy's public surface this helper uses (imported from its sources: see {@link importProxy}). */
interface ProxyModule {
  readonly KNOWN_INTERFACES: readonly InterfaceDefinition[];
  readonly PluginCatalog: new () => { register(def: PluginDefinition): unknown };
  loadProxyConfig(file: string, catalog: unknown): Promise<{ config: unknown; catalog: unknown }>;
  startProxy(opts: {
    config: unknown;
    catalog: unknown;
    port: number;
    host: string;
    adminPort: false;
    logger: unknown;
  }): Promise<{ readonly url: string; shutdown(): Promise<void> }>;
}

/**
 * The proxy depends on every adapter, and adapters' tests use this package, so a declared dependency would
 * be a cycle: the proxy is imported from its TypeScript sources instead, which jest compiles.
 */
function importProxy(): Promise<ProxyModule> {
  return import(new URL('../../../apps/proxy/src/index.ts', import.meta.url).href) as Promise<ProxyModule>;
}

/** Calls `method` with a request naming only the namespace; resolves with the Connect code it ends with. */
async function codeOf(transport: Transport, service: DescService, method: DescMethod, namespace: string) {
  const signal = AbortSignal.timeout(3000);
  const call = (createClient(service, transport) as unknown as Record<string, Method>)[method.localName]!;
  try {
    const res = call({ namespace }, { signal });
    if (method.methodKind === 'server_streaming') for await (const _ of res as AsyncIterable<unknown>) break;
    else await res;
    return { code: undefined, message: '' };
  } catch (err) {
    // Our own timeout: the call was being served (e.g. a wait on an empty stream).
    if (signal.aborted) return { code: undefined, message: 'served (still waiting after 3 s)' };
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

type Method = (request: { namespace: string }, options: { signal: AbortSignal }) => unknown;

function describeUndeclared(label: string, plugin: PluginDefinition, config: Record<string, unknown>): void {
  describe(`${label}: interfaces it does not declare answer UNIMPLEMENTED through the proxy`, () => {
    const namespace = `undeclared-${plugin.name}`;
    let proxy: Awaited<ReturnType<ProxyModule['startProxy']>>;
    let known: readonly InterfaceDefinition[] = [];
    let transport: Transport;
    const dir = mkdtempSync(join(tmpdir(), 'prism-undeclared-'));

    beforeAll(async () => {
      const mod = await importProxy();
      known = mod.KNOWN_INTERFACES;
      const model = plugin.interfaces[0]?.name.split('_')[0] ?? 'keyvalue';
      const file = join(dir, 'prism.yaml');
      const backend = JSON.stringify({ type: plugin.name, config });
      writeFileSync(
        file,
        `namespaces:\n  - name: ${namespace}\n    pattern: ${model}\n    backend: ${backend}\n`,
      );
      const catalog = new mod.PluginCatalog();
      catalog.register(plugin);
      const loaded = await mod.loadProxyConfig(file, catalog);
      const logger = createLogger({
        name: 'conformance-proxy',
        level: process.env.PRISM_LOG_LEVEL ?? 'warn',
      });
      proxy = await mod.startProxy({ ...loaded, port: 0, host: '127.0.0.1', adminPort: false, logger });
      transport = createGrpcTransport({ baseUrl: proxy.url });
    }, 60_000);
    afterAll(async () => {
      await proxy?.shutdown();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers UNIMPLEMENTED on every method of every undeclared interface, naming namespace and backend', async () => {
      const declared = new Set(plugin.interfaces.map((i) => i.service.typeName));
      const undeclared = known.filter((i) => !declared.has(i.service.typeName));
      const wrong: string[] = [];
      for (const iface of undeclared) {
        for (const method of iface.service.methods) {
          const { code, message } = await codeOf(transport, iface.service, method, namespace);
          const named = message.includes(`"${namespace}"`) && message.includes(`"${plugin.name}"`);
          if (code !== Code.Unimplemented || !named)
            wrong.push(`${iface.name}.${method.name}: ${code === undefined ? 'OK' : Code[code]} ${message}`);
        }
      }
      expect(wrong).toEqual([]);
    });

    it('serves every declared interface (no UNIMPLEMENTED for them)', async () => {
      const wrong: string[] = [];
      for (const iface of plugin.interfaces) {
        for (const method of iface.service.methods) {
          const { code, message } = await codeOf(transport, iface.service, method, namespace);
          if (code === Code.Unimplemented) wrong.push(`${iface.name}.${method.name}: ${message}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  });
}
