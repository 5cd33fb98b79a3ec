import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectError } from '@connectrpc/connect';
import type { BackendConfig, NamespaceConfig } from '@prism/config';
import {
  backoffDelay,
  createPluginTransport,
  type InterfaceDefinition,
  type Logger,
  lifecycleClient,
} from '@prism/sdk';
import { ADAPTER_PREFIX, shippedAdapters } from './adapters.js';
import { attachPlugin, detachPlugin } from './attach.js';
import type { PluginConnection } from './supervisor.js';

/** How long a sidecar may take from spawn to answering HealthCheck. */
const READY_TIMEOUT_MS = 20_000;
const STDERR_TAIL_LINES = 20;

/** The program a sidecar runs: a package's `bin`. */
export interface PluginBin {
  readonly packageName: string;
  readonly file: string;
}

function findPackageJson(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function findInNodeModules(specifier: string, from: readonly string[]): string | undefined {
  for (const start of from)
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', specifier, 'package.json');
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  return undefined;
}

/**
 * Finds the executable of a backend's plugin package: `backend.plugin.package` (a package name, or a
 * path relative to the config file) or `@prism/adapter-<type>`, then its `bin` (the entry named
 * `prism-plugin-<type>`, or the only one).
 */
export function resolvePluginBin(backend: BackendConfig, configFile: string): PluginBin {
  const spec = backend.plugin.package ?? `${ADAPTER_PREFIX}${backend.type}`;
  // The bundled proxy carries its adapters' sidecar executables next to itself.
  const shipped = backend.plugin.package ? undefined : shippedAdapters.pluginBin(backend.type);
  if (shipped) return { packageName: spec, file: shipped };
  const configDir = dirname(configFile);
  const here = dirname(fileURLToPath(import.meta.url));
  const pkgJson =
    spec.startsWith('.') || isAbsolute(spec)
      ? findPackageJson(resolve(configDir, spec))
      : findInNodeModules(spec, [here, process.cwd(), configDir]);
  if (!pkgJson) throw new Error(`cannot find plugin package "${spec}" (is it installed?)`);
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as {
    name?: string;
    bin?: string | Record<string, string>;
  };
  const name = pkg.name ?? spec;
  const bins = typeof pkg.bin === 'string' ? { [name]: pkg.bin } : (pkg.bin ?? {});
  const entries = Object.entries(bins);
  const chosen = bins[`prism-plugin-${backend.type}`] ?? (entries.length === 1 ? entries[0]?.[1] : undefined);
  if (!chosen)
    throw new Error(
      `package "${name}" has ${entries.length ? `several bins (${Object.keys(bins).join(', ')}) and none named prism-plugin-${backend.type}` : 'no "bin"'}; a sidecar needs a bin that calls servePlugin(plugin)`,
    );
  const file = resolve(dirname(pkgJson), chosen);
  if (!existsSync(file))
    throw new Error(`plugin bin ${file} of "${name}" does not exist (build the package first)`);
  return { packageName: name, file };
}

/** Variables of the proxy's environment every sidecar keeps: where things are, locale, Node settings. */
const BASE_ENV = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LANGUAGE',
  'TZ',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_PATH',
  'NODE_V8_COVERAGE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'PRISM_LOG_LEVEL',
]);

/**
 * The environment of a namespace's sidecar: the base variables above (and `LC_*`), those its own
 * `backend.config` references (`${env:NAME}`, see `BackendConfig.envNames`), and `extra` (what the proxy
 * sets on purpose, e.g. where to export traces). Nothing else of the proxy's environment reaches it:
 * secrets meant for other namespaces stay out, and the plugin gets its own in Initialize `credentials`.
 */
export function sidecarEnvironment(
  backend: BackendConfig | undefined,
  extra: Readonly<Record<string, string>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && (BASE_ENV.has(name) || name.startsWith('LC_'))) out[name] = value;
  for (const name of backend?.envNames ?? []) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...extra };
}

/** Everything a sidecar connection needs; built once per namespace, used again on each restart. */
export interface SidecarSpec {
  readonly namespace: NamespaceConfig;
  readonly bin: PluginBin;
  readonly interfaces: readonly InterfaceDefinition[];
  readonly logger: Logger;
  /** Added to the sidecar's minimal environment (see {@link sidecarEnvironment}). */
  readonly env?: Readonly<Record<string, string>>;
  /** The proxy's `read_max_bytes`, which the sidecar enforces too. */
  readonly readMaxBytes: number;
}

function waitExit(child: ChildProcess): Promise<string> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolveExit(`exited (code ${child.exitCode}, signal ${child.signalCode})`);
    child.once('exit', (code, signal) => resolveExit(`exited (code ${code}, signal ${signal})`));
  });
}

/**
 * Spawns the plugin bin with a Unix socket in a fresh 0700 directory, polls HealthCheck with backoff
 * until it answers (failing early if the process exits), then runs Describe/Initialize/Start.
 */
export async function startSidecar(spec: SidecarSpec): Promise<PluginConnection> {
  const { namespace, bin, logger } = spec;
  // Default: a Unix socket only this user can reach. `plugin.endpoint` (http://host:port) puts the
  // sidecar on TCP instead (e.g. to compare transports); TLS is for remote plugins.
  const endpoint = namespace.backend?.plugin.endpoint
    ? new URL(namespace.backend.plugin.endpoint)
    : undefined;
  if (endpoint && endpoint.protocol !== 'http:')
    throw new Error(
      `namespace "${namespace.name}": a sidecar endpoint must be http://host:port (TLS is for remote plugins)`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'prism-sidecar-'));
  await chmod(dir, 0o700);
  const socket = join(dir, 'plugin.sock');
  const listenArgs = endpoint
    ? ['--host', endpoint.hostname.replace(/^\[|\]$/g, ''), '--port', endpoint.port || '80']
    : ['--socket', socket];
  const args = [bin.file, ...listenArgs, '--sidecar', '--read-max-bytes', String(spec.readMaxBytes)];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: sidecarEnvironment(namespace.backend, spec.env),
  });
  const where = `sidecar ${bin.packageName} (pid ${child.pid})`;
  const tail: string[] = [];
  const log = logger.child({ namespace: namespace.name, sidecar: bin.packageName, pid: child.pid });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      log.debug({ line }, 'sidecar output');
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.stdin?.on('error', () => {}); // EPIPE when the child dies first
  child.on('error', (err) => tail.push(`spawn error: ${err.message}`));
  const exited = waitExit(child);
  // servePlugin speaks Connect binary too: no HTTP trailers, a little cheaper per call than gRPC.
  const transport = createPluginTransport({
    ...(endpoint ? { url: endpoint.origin } : { socket }),
    protocol: 'connect',
  });

  const cleanup = async () => {
    transport.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(forced);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const lifecycle = lifecycleClient(transport);
    let exitReason: string | undefined;
    void exited.then((r) => (exitReason = r));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      if (exitReason) throw new Error(`${exitReason} before it was ready:\n${tail.join('\n')}`);
      const ok = await lifecycle.healthCheck({}, { timeoutMs: 1000 }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`not ready after ${READY_TIMEOUT_MS} ms:\n${tail.join('\n')}`);
      await Promise.race([
        new Promise((r) => setTimeout(r, backoffDelay(attempt, { minDelayMs: 10, maxDelayMs: 250 }))),
        exited,
      ]);
    }
    const attached = await attachPlugin(transport, namespace, spec.interfaces, where);
    log.info({ plugin: attached.describe.name }, 'sidecar started');
    return {
      attached,
      ...(child.pid !== undefined ? { pid: child.pid } : {}),
      lost: exited,
      dispose: async () => {
        if (child.exitCode === null && child.signalCode === null) await detachPlugin(attached, 5000);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    const reason =
      err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
    if (reason.startsWith('namespace "')) throw err; // already names namespace and sidecar (and keeps its code)
    throw new Error(`namespace "${namespace.name}": ${where}: ${reason}`, { cause: err });
  }
}
