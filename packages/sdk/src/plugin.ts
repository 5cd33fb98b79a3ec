import type { DescService } from '@bufbuild/protobuf';
import type { z } from 'zod';
import { Call, type CallContext } from './call.js';
import { toConnectError } from './errors.js';
import type { HealthReport } from './health.js';
import type { AnyImpl, Binding, InterfaceDefinition, InterfaceImpl } from './interface.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { createLogger, type Logger } from './logger.js';
import { noopMetrics, type PluginMetrics } from './metrics.js';
import { errorMapping } from './middleware/error-mapping.js';
import { validation } from './middleware/validation.js';
import { compose } from './pipeline.js';
import { withLabels } from './prometheus.js';

/** What the host hands a plugin when it creates an instance for one namespace. */
export interface PluginContext {
  /** The namespace this instance serves; use it to isolate data on a shared backend (prefix, schema, subject). */
  readonly namespace: string;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly metrics: PluginMetrics;
}

/** A live plugin instance for one namespace. */
export interface PluginInstance {
  /** The implementations, one per declared interface (see {@link implement}). */
  readonly bindings: readonly Binding[];
  /** Optional: connect to the backend; a rejection aborts the start with a clear error. */
  start?(): Promise<void>;
  /** Optional: current health; defaults to healthy. */
  health?(): Promise<HealthReport> | HealthReport;
  /** Optional: release connections, timers and files. */
  close?(): Promise<void>;
}

/**
 * One place a namespace's data lives on a shared backend: a key prefix, a subject or topic prefix, a
 * table or the rows of a table keyed by the namespace. Config validation rejects two namespaces on the
 * same backend endpoint whose scopes of the same `kind` overlap.
 */
export interface IsolationScope {
  /** What the scope names, as messages show it; only scopes of the same kind can overlap (e.g. `keys in database 0`, `pub/sub channels`, `topics`). */
  readonly kind: string;
  /** The namespace's prefix or name in that space, e.g. `sessions:`. */
  readonly value: string;
  /** `prefix` (default): overlapping when one value is a prefix of the other; `exact`: when they are equal (table names). */
  readonly match?: 'prefix' | 'exact';
  /** The `backend.config` field it comes from (e.g. `key_prefix`); absent when it is derived from the namespace name. */
  readonly field?: string;
}

/** How a namespace is kept apart from others on its backend (see {@link PluginDefinition.isolation}). */
export interface Isolation {
  /**
   * Identities of the backend server(s) the namespace uses, never credentials: `host:port` (see
   * {@link endpointId}), with the database where the backend has several, or a file path. Two namespaces
   * share a backend when they share an endpoint (a cluster lists its seed servers).
   */
  readonly endpoints: readonly string[];
  readonly scopes: readonly IsolationScope[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '::', '[::]']);

/** A server's identity for {@link Isolation.endpoints}: lower-case host (loopback names as one) and port. */
export function endpointId(host: string, port: number | string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return `${LOOPBACK.has(h) ? 'localhost' : h}:${port}`;
}

/** A backend plugin: name, version, the interfaces it implements, a config schema and a factory. */
export interface PluginDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Backend type as written in YAML `backend.type`, e.g. `redis`. */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** Every interface flavour this plugin implements; each must be bound by `create`. */
  readonly interfaces: readonly InterfaceDefinition<DescService>[];
  /**
   * Interfaces of this backend's models that the plugin deliberately leaves out, each with why (e.g.
   * `{ stream_retention: 'Kafka cannot bound a topic by record count' }`). Documentation only:
   * docs/backends.md lists them beside the matrix.
   */
  readonly omitted?: Readonly<Record<string, string>>;
  /** Validates `backend.config`; its defaults apply. */
  readonly configSchema: Schema;
  /** Creates an instance for one namespace. */
  create(config: z.output<Schema>, ctx: PluginContext): Promise<PluginInstance> | PluginInstance;
  /**
   * Optional: where `namespace`'s data lives on the backend `config` points at (its endpoint and its
   * prefixes or tables), so config validation can reject two namespaces that would read each other's data.
   * Undefined (or no method) when every instance has a private store (e.g. in memory). Must not connect.
   */
  isolation?(config: z.output<Schema>, namespace: string): Isolation | undefined;
  /**
   * True when the data lives in the plugin's own process (MemStore): every process that runs the plugin
   * has a copy of its own. The proxy refuses such a namespace with `--workers N > 1` unless it is marked
   * `per_worker`, since a write answered by one worker would be invisible to reads answered by another.
   */
  readonly dataInProcess?: boolean;
}

/** Declares a plugin. Identity at runtime; exists for type inference and documentation. */
export function definePlugin<Schema extends z.ZodType>(
  def: PluginDefinition<Schema>,
): PluginDefinition<Schema> {
  return def;
}

/** A config value failed the plugin's schema. `issues` carry the path inside `backend.config`. */
export class PluginConfigError extends Error {
  constructor(
    readonly plugin: string,
    readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  ) {
    super(
      `invalid config for backend "${plugin}": ${issues
        .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
    this.name = 'PluginConfigError';
  }
}

/** Validates raw config against a plugin's schema, throwing {@link PluginConfigError}. */
export function parsePluginConfig<Schema extends z.ZodType>(
  def: PluginDefinition<Schema>,
  raw: unknown,
): z.output<Schema> {
  const result = def.configSchema.safeParse(raw ?? {});
  if (!result.success) throw new PluginConfigError(def.name, result.error.issues);
  return result.data;
}

/**
 * A running plugin as hosts see it (proxy router, conformance suites, plugin servers): validated,
 * error-mapped implementations by service type name, plus health and close. In-process, sidecar
 * and remote plugins all look like this.
 */
export interface PluginHandle {
  readonly plugin: string;
  readonly version: string;
  readonly namespace: string;
  /** Service type name (e.g. `prism.keyvalue.v1.KeyValueBasicInterface`) → implementation. */
  readonly interfaces: ReadonlyMap<string, AnyImpl>;
  /** The typed implementation of one interface, or undefined when the plugin lacks it. */
  get<S extends DescService>(iface: InterfaceDefinition<S>): InterfaceImpl<S> | undefined;
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

/** Options for {@link instantiatePlugin}. */
export interface InstantiateOptions {
  readonly namespace: string;
  readonly limits?: Partial<Limits>;
  readonly logger?: Logger;
  readonly metrics?: PluginMetrics;
}

/** Validates config, creates and starts an in-process instance, and wraps it into a {@link PluginHandle}. */
export async function instantiatePlugin(
  def: PluginDefinition,
  rawConfig: unknown,
  opts: InstantiateOptions,
): Promise<PluginHandle> {
  const config = parsePluginConfig(def, rawConfig);
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const logger = (opts.logger ?? createLogger({ name: 'prism' })).child({
    plugin: def.name,
    namespace: opts.namespace,
  });
  const ctx: PluginContext = {
    namespace: opts.namespace,
    limits,
    logger,
    // Every sample of an instance carries its namespace, so namespaces sharing a registry stay apart.
    metrics: opts.metrics ? withLabels(opts.metrics, { namespace: opts.namespace }) : noopMetrics,
  };
  const instance = await def.create(config, ctx);
  const where = `${def.name} backend of namespace "${opts.namespace}"`;
  try {
    await instance.start?.();
  } catch (err) {
    await instance.close?.().catch(() => {});
    throw toConnectError(err, where);
  }
  const interfaces = bindInterfaces(def, instance.bindings, limits, where, opts.namespace);
  return {
    plugin: def.name,
    version: def.version,
    namespace: opts.namespace,
    interfaces,
    get: <S extends DescService>(iface: InterfaceDefinition<S>) =>
      interfaces.get(iface.service.typeName) as InterfaceImpl<S> | undefined,
    async health() {
      try {
        return (await instance.health?.()) ?? { status: 'healthy' };
      } catch (err) {
        return { status: 'unhealthy', message: err instanceof Error ? err.message : String(err) };
      }
    },
    async close() {
      await instance.close?.();
    },
  };
}

function bindInterfaces(
  def: PluginDefinition,
  bindings: readonly Binding[],
  limits: Limits,
  where: string,
  namespace: string,
): Map<string, AnyImpl> {
  const declared = new Set(def.interfaces.map((i) => i.service.typeName));
  const out = new Map<string, AnyImpl>();
  for (const { iface, impl } of bindings) {
    const typeName = iface.service.typeName;
    if (!declared.has(typeName))
      throw new Error(`plugin "${def.name}" binds ${iface.name} but does not declare it in "interfaces"`);
    out.set(typeName, wrapImpl(iface, impl, limits, where, namespace));
  }
  for (const typeName of declared)
    if (!out.has(typeName))
      throw new Error(`plugin "${def.name}" declares ${typeName} but its create() did not bind it`);
  return out;
}

type Fn = (request: unknown, ctx: CallContext) => unknown;

/**
 * Runs every method of an implementation through the plugin's chain: the interface's input validation,
 * then error mapping (`where` names the backend and namespace in messages).
 */
export function wrapImpl(
  iface: InterfaceDefinition,
  impl: AnyImpl,
  limits: Limits,
  where: string,
  namespace = '',
): AnyImpl {
  const out: Record<string, Fn> = {};
  const middleware = [errorMapping(where), validation(limits)];
  for (const method of iface.service.methods) {
    const fn = (impl as Record<string, Fn | undefined>)[method.localName];
    if (typeof fn !== 'function')
      throw new Error(`${where}: ${iface.service.typeName} lacks method ${method.localName}`);
    const bound = fn.bind(impl) as Fn;
    const chain = compose(middleware, (call) => bound(call.request, call));
    out[method.localName] = (request: unknown, ctx: CallContext) =>
      chain(
        // Inside a pipeline the context is already this call: reuse it (one object per call).
        ctx instanceof Call && ctx.request === request && ctx.method === method
          ? ctx
          : new Call({
              namespace,
              definition: iface,
              method,
              request,
              signal: ctx.signal,
              deadline: ctx.deadline,
              trace: ctx.trace,
            }),
      );
  }
  return out;
}

/** Creates a handle for a namespace; what conformance suites and hosts take to get a fresh instance. */
export type PluginFactory = (opts: InstantiateOptions) => Promise<PluginHandle>;
