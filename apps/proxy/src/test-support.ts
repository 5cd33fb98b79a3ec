import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  connectPlugin,
  createLogger,
  createPluginTransport,
  type InstantiateOptions,
  type Logger,
  type PluginFactory,
  type PluginHandle,
} from '@prism/sdk';
import { KNOWN_INTERFACES } from './interfaces.js';
import { loadProxyConfig } from './load.js';
import { type RunningProxy, startProxy } from './server.js';

/** A proxy started from a YAML file in a temp dir (so reloads can rewrite it). */
export interface TestProxy {
  readonly proxy: RunningProxy;
  readonly file: string;
  /** Rewrites the YAML (call `proxy.reload()` after). */
  write(yaml: string): void;
  /** A handle whose interfaces are Connect clients to the proxy, for one namespace. */
  client(namespace: string): PluginHandle;
  stop(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1:0 from `yaml` (a `namespaces:` document), logging to `opts.logger` if given. */
export async function startTestProxy(
  yaml: string,
  opts: { readonly logger?: Logger } = {},
): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'prism-proxy-test-'));
  const file = join(dir, 'prism.yaml');
  writeFileSync(file, yaml);
  const logger =
    opts.logger ?? createLogger({ name: 'test-proxy', level: process.env.PRISM_LOG_LEVEL ?? 'warn' });
  let proxy: RunningProxy;
  try {
    const { config, catalog } = await loadProxyConfig(file);
    proxy = await startProxy({ config, catalog, port: 0, host: '127.0.0.1', configFile: file, logger });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const transports: { close(): void }[] = [];
  return {
    proxy,
    file,
    write: (text) => writeFileSync(file, text),
    client: (namespace) => {
      const transport = createPluginTransport({ url: proxy.url });
      transports.push(transport);
      return connectPlugin(transport, KNOWN_INTERFACES, { namespace, plugin: 'prism-proxy' });
    },
    stop: async () => {
      for (const t of transports) t.close();
      await proxy.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A conformance-suite factory that serves each suite through a real proxy: a one-namespace config
 * with `backend` (YAML flow map, e.g. `{ type: memstore, plugin: { mode: sidecar } }`), and a handle
 * made of Connect clients to the proxy. Closing the handle shuts the proxy (and its plugins) down.
 */
export function proxiedFactory(backend: () => string): PluginFactory {
  return async (opts: InstantiateOptions) => {
    const limits = opts.limits
      ? `\n    limits: { max_key_bytes: ${opts.limits.maxKeyBytes}, max_value_bytes: ${opts.limits.maxValueBytes} }`
      : '';
    const test = await startTestProxy(
      `namespaces:\n  - name: ${opts.namespace}\n    pattern: keyvalue${limits}\n    backend: ${backend()}\n`,
    );
    const handle = test.client(opts.namespace);
    return { ...handle, close: () => test.stop() };
  };
}

/** Polls `cond` until it holds, failing after `timeoutMs` with `what`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; !(await cond()); attempt++) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** attempt, 100)));
  }
}

/** A steady client load on one namespace: `workers` loops of Set then Get, counting results by code. */
export interface Load {
  ok: number;
  /** Error codes (names) with their messages, in order. */
  readonly errors: string[];
  stop(): Promise<void>;
}

/** Starts `workers` concurrent Set/Get loops against `namespace` through `handle` until stopped. */
export function startLoad(handle: PluginHandle, namespace: string, workers = 4): Load {
  const kv = handle.interfaces.get('prism.keyvalue.v1.KeyValueBasicInterface') as unknown as Record<
    string,
    (req: unknown, ctx: { signal: AbortSignal }) => Promise<unknown>
  >;
  let running = true;
  const ctx = { signal: new AbortController().signal };
  const load: Load = {
    ok: 0,
    errors: [],
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
  const loop = async (w: number) => {
    for (let i = 0; running; i++) {
      const key = `load-${w}-${i % 50}`;
      try {
        await kv.set?.({ namespace, key, value: new Uint8Array([i & 255]) }, ctx);
        await kv.get?.({ namespace, key }, ctx);
        load.ok++;
      } catch (err) {
        const ce = ConnectError.from(err);
        load.errors.push(`${Code[ce.code]}: ${ce.rawMessage}`);
      }
    }
  };
  const loops = Array.from({ length: workers }, (_, w) => loop(w));
  return load;
}
