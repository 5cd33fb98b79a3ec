import { randomUUID } from 'node:crypto';
import type http2 from 'node:http2';
import type { ConnectRouter } from '@connectrpc/connect';
import {
  type DescribeResponse,
  type HealthCheckResponse,
  HealthStatus,
  type InitializeRequest,
  type InitializeResponse,
  PluginLifecycleInterface,
} from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import type { Registry } from 'prom-client';
import type { Call } from './call.js';
import { mergeCredentials } from './credentials.js';
import { failedPrecondition, invalidArgument, notFound, toConnectError, unavailable } from './errors.js';
import type { HealthReport } from './health.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import type { Logger } from './logger.js';
import type { PluginMetrics } from './metrics.js';
import { deadlines } from './middleware/deadlines.js';
import { InflightCounter, type Middleware, Pipeline } from './pipeline.js';
import {
  instantiatePlugin,
  PluginConfigError,
  type PluginDefinition,
  type PluginHandle,
  parsePluginConfig,
} from './plugin.js';
import { mountPipeline } from './wire/connect-door.js';
import { createUnaryServer, type UnaryServer } from './wire/unary-server.js';

/** Header naming the plugin instance an interface call is for (see lifecycle.proto). */
export const PLUGIN_INSTANCE_HEADER = 'prism-plugin-instance';

type Method = (request: unknown, ctx: Call) => unknown;
type State = 'initialized' | 'started' | 'draining' | 'stopped';

/** One instance hosted by a plugin server: a namespace's config, then its running handle. */
class HostedInstance {
  state: State = 'initialized';
  handle: PluginHandle | undefined;
  /** Calls running on this instance, so Drain can wait for them. */
  readonly inflight = new InflightCounter();

  constructor(
    readonly id: string,
    readonly namespace: string,
    readonly config: unknown,
    readonly limits: Limits,
  ) {}
}

/** Options for {@link PluginHost}. */
export interface PluginHostOptions {
  /** Backs the plugin's metrics hooks; served by the lifecycle Metrics call. */
  readonly registry?: Registry;
  readonly metrics?: PluginMetrics;
  /** Middleware run before the host's own (deadlines) for every interface call, e.g. tracing. */
  readonly middleware?: readonly Middleware[];
  /** Largest request message accepted (default 16 MiB, the proxy's default). */
  readonly readMaxBytes?: number;
}

const STATUS: Record<HealthReport['status'], HealthStatus> = {
  healthy: HealthStatus.HEALTHY,
  degraded: HealthStatus.DEGRADED,
  unhealthy: HealthStatus.UNHEALTHY,
};

/**
 * The state behind a plugin server: instances by id, the lifecycle service and the interface
 * services (routed by the instance header, else by the request's namespace).
 */
export class PluginHost {
  private readonly instances = new Map<string, HostedInstance>();
  /** Latest started instance per namespace, for calls without the instance header. */
  private readonly byNamespace = new Map<string, HostedInstance>();
  /** Every interface call, from either door, runs through this chain. */
  readonly pipeline: Pipeline;
  /** Binary unary calls, answered on the wire (see unary-server.ts). */
  readonly fastPath: UnaryServer;

  constructor(
    readonly def: PluginDefinition,
    private readonly logger: Logger,
    private readonly opts: PluginHostOptions = {},
  ) {
    this.pipeline = new Pipeline([...(opts.middleware ?? []), deadlines], (call) => this.dispatch(call));
    this.fastPath = createUnaryServer(def.interfaces, (call) => this.pipeline.unary(call), {
      readMaxBytes: opts.readMaxBytes ?? 16 * 1024 * 1024,
      allowOriginOnStreams: true,
    });
  }

  describe(): Omit<DescribeResponse, '$typeName'> {
    return {
      name: this.def.name,
      version: this.def.version,
      interfaces: this.def.interfaces.map((i) => i.service.typeName),
      flavours: this.def.interfaces.map((i) => i.name),
    };
  }

  initialize(req: InitializeRequest): Omit<InitializeResponse, '$typeName'> {
    if (!req.namespace) throw invalidArgument('Initialize: namespace is required');
    let raw: unknown = {};
    if (req.configJson) {
      try {
        raw = JSON.parse(req.configJson);
      } catch (err) {
        throw invalidArgument(`Initialize: config_json is not valid JSON: ${(err as Error).message}`);
      }
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalidArgument('Initialize: config_json must be a JSON object');
    // Credentials arrive apart from the config so they are never logged; each goes back to its config path.
    const config = mergeCredentials(raw as Record<string, unknown>, req.credentials);
    try {
      parsePluginConfig(this.def, config);
    } catch (err) {
      if (err instanceof PluginConfigError) throw invalidArgument(err.message);
      throw err;
    }
    const limits: Limits = {
      maxKeyBytes: req.limits?.maxKeyBytes || DEFAULT_LIMITS.maxKeyBytes,
      maxValueBytes: req.limits?.maxValueBytes || DEFAULT_LIMITS.maxValueBytes,
    };
    const instance = new HostedInstance(randomUUID(), req.namespace, config, limits);
    this.instances.set(instance.id, instance);
    this.logger.info({ namespace: req.namespace, instance: instance.id }, 'initialized');
    return { ...this.describe(), instanceId: instance.id };
  }

  private instance(id: string, call: string): HostedInstance {
    if (!id) {
      if (this.instances.size === 1) return [...this.instances.values()][0] as HostedInstance;
      throw invalidArgument(`${call}: instance_id is required (from InitializeResponse)`);
    }
    const instance = this.instances.get(id);
    if (!instance)
      throw notFound(`${call}: unknown instance "${id}" (plugin restarted? call Initialize again)`);
    return instance;
  }

  async start(id: string): Promise<void> {
    const instance = this.instance(id, 'Start');
    if (instance.state === 'started') return;
    if (instance.state !== 'initialized')
      throw failedPrecondition(`Start: instance "${instance.id}" is ${instance.state}`);
    instance.handle = await instantiatePlugin(this.def, instance.config, {
      namespace: instance.namespace,
      limits: instance.limits,
      logger: this.logger,
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
    });
    instance.state = 'started';
    this.byNamespace.set(instance.namespace, instance);
    this.logger.info({ namespace: instance.namespace, instance: instance.id }, 'started');
  }

  async drain(id: string, timeoutMs: number): Promise<number> {
    const instance = this.instance(id, 'Drain');
    if (instance.state === 'started') instance.state = 'draining';
    if (this.byNamespace.get(instance.namespace) === instance) this.byNamespace.delete(instance.namespace);
    return instance.inflight.idle(timeoutMs || 10_000);
  }

  async stop(id: string): Promise<void> {
    const instance = this.instance(id, 'Stop');
    instance.state = 'stopped';
    this.instances.delete(instance.id);
    if (this.byNamespace.get(instance.namespace) === instance) this.byNamespace.delete(instance.namespace);
    await instance.handle?.close();
    this.logger.info({ namespace: instance.namespace, instance: instance.id }, 'stopped');
  }

  async health(id: string): Promise<Omit<HealthCheckResponse, '$typeName'>> {
    if (!id) return { status: HealthStatus.HEALTHY, message: 'plugin process is serving', details: {} };
    const instance = this.instance(id, 'HealthCheck');
    if (!instance.handle)
      return { status: HealthStatus.UNHEALTHY, message: `instance is ${instance.state}`, details: {} };
    const report = await instance.handle.health();
    return { status: STATUS[report.status], message: report.message ?? '', details: { ...report.details } };
  }

  /** Stops every instance (process shutdown). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.instances.keys()].map((id) => this.stop(id)));
  }

  /** The process's metrics for the lifecycle Metrics call (prom-client JSON). */
  async metricsJson(): Promise<string> {
    return this.opts.registry ? JSON.stringify(await this.opts.registry.getMetricsAsJSON()) : '';
  }

  /** The pipeline's terminal: the started instance the call is for, then its implementation. */
  private dispatch(call: Call): unknown {
    const instance = this.route(call);
    instance.inflight.enter();
    call.onEnd(() => instance.inflight.leave());
    // route() only returns started instances, whose handle binds every declared interface.
    const impl = instance.handle?.interfaces.get(call.service) as unknown as Record<string, Method>;
    return (impl[call.method.localName] as Method)(call.request, call);
  }

  private route(call: Call): HostedInstance {
    const id = call.headers.get(PLUGIN_INSTANCE_HEADER);
    const namespace = call.namespace;
    const instance = id ? this.instances.get(id) : this.byNamespace.get(namespace);
    if (!instance) {
      if (id) throw unavailable(`plugin "${this.def.name}" has no instance "${id}" (it restarted); retry`);
      throw failedPrecondition(
        `plugin "${this.def.name}" serves no started instance for namespace "${namespace}": call Initialize and Start first`,
      );
    }
    if (instance.namespace !== namespace)
      throw invalidArgument(
        `namespace "${namespace}" does not match the instance's namespace "${instance.namespace}"`,
      );
    if (instance.state === 'initialized')
      throw failedPrecondition(
        `instance for namespace "${namespace}" is initialized but not started: call Start`,
      );
    if (instance.state !== 'started')
      throw unavailable(
        `instance for namespace "${namespace}" is ${instance.state}; retry on the new instance`,
      );
    return instance;
  }

  /** Serves a raw HTTP/2 stream when it is a binary unary call (the proxy's hot path); else false. */
  serveStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean {
    return this.fastPath.stream(stream, headers);
  }

  /** Mounts the lifecycle service and every interface service of the plugin. */
  mount(router: ConnectRouter): void {
    const wrap =
      <R>(fn: () => R | Promise<R>, call: string) =>
      async (): Promise<R> => {
        try {
          return await fn();
        } catch (err) {
          throw toConnectError(err, `plugin "${this.def.name}" ${call}`);
        }
      };
    router.service(PluginLifecycleInterface, {
      describe: () => this.describe(),
      initialize: (req) => wrap(() => this.initialize(req), 'Initialize')(),
      start: async (req) => {
        await wrap(() => this.start(req.instanceId), 'Start')();
        return {};
      },
      drain: async (req) => ({
        inFlight: await wrap(() => this.drain(req.instanceId, req.timeoutMs), 'Drain')(),
      }),
      stop: async (req) => {
        await wrap(() => this.stop(req.instanceId), 'Stop')();
        return {};
      },
      healthCheck: (req) => wrap(() => this.health(req.instanceId), 'HealthCheck')(),
      metrics: async () => ({ metricsJson: await this.metricsJson() }),
    });
    mountPipeline(router, this.def.interfaces, this.pipeline);
  }
}
