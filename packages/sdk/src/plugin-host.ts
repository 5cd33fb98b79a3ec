import { randomUUID } from 'node:crypto';
import type http2 from 'node:http2';
import {
  create,
  type DescMethod,
  type DescService,
  fromBinary,
  isMessage,
  toBinary,
} from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type ServiceImpl,
} from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import {
  type DescribeResponse,
  type HealthCheckResponse,
  HealthStatus,
  type InitializeRequest,
  type InitializeResponse,
  PluginLifecycleInterface,
} from '@prism/proto/prism/plugin/v1/lifecycle_pb';
import { failedPrecondition, invalidArgument, notFound, toConnectError, unavailable } from './errors.js';
import type { HealthReport } from './health.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import type { Logger } from './logger.js';
import {
  instantiatePlugin,
  PluginConfigError,
  type PluginDefinition,
  type PluginHandle,
  parsePluginConfig,
} from './plugin.js';

/** Header naming the plugin instance an interface call is for (see lifecycle.proto). */
export const PLUGIN_INSTANCE_HEADER = 'prism-plugin-instance';

type Method = (request: { namespace?: string }, ctx: HandlerContext) => unknown;
type State = 'initialized' | 'started' | 'draining' | 'stopped';

/** One instance hosted by a plugin server: a namespace's config, then its running handle. */
class HostedInstance {
  state: State = 'initialized';
  handle: PluginHandle | undefined;
  inflight = 0;
  private onIdle: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly namespace: string,
    readonly config: unknown,
    readonly limits: Limits,
  ) {}

  /** Runs one call, counting it so Drain can wait for it. */
  track<T>(run: () => T): T {
    this.inflight++;
    let result: T;
    try {
      result = run();
    } catch (err) {
      this.done();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => this.done()) as T;
    this.done();
    return result;
  }

  done(): void {
    this.inflight--;
    if (this.inflight === 0) this.onIdle?.();
  }

  /** Resolves when no call is running or after `timeoutMs`, with the number still running. */
  waitIdle(timeoutMs: number): Promise<number> {
    if (this.inflight === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      const self = this;
      function finish() {
        clearTimeout(timer);
        self.onIdle = undefined;
        resolve(self.inflight);
      }
      this.onIdle = finish;
    });
  }
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
  /** Unary methods by HTTP path, for {@link PluginHost.serveFastUnary}. */
  private readonly unary = new Map<string, { method: DescMethod; fn: Method }>();

  constructor(
    readonly def: PluginDefinition,
    private readonly logger: Logger,
  ) {}

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
    // Credentials arrive apart from the config so they are never logged; they fill config keys.
    const config = { ...(raw as Record<string, unknown>), ...req.credentials };
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
    });
    instance.state = 'started';
    this.byNamespace.set(instance.namespace, instance);
    this.logger.info({ namespace: instance.namespace, instance: instance.id }, 'started');
  }

  async drain(id: string, timeoutMs: number): Promise<number> {
    const instance = this.instance(id, 'Drain');
    if (instance.state === 'started') instance.state = 'draining';
    if (this.byNamespace.get(instance.namespace) === instance) this.byNamespace.delete(instance.namespace);
    return instance.waitIdle(timeoutMs || 10_000);
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

  private route(request: { namespace?: string }, ctx: HandlerContext): HostedInstance {
    const id = ctx.requestHeader.get(PLUGIN_INSTANCE_HEADER);
    const namespace = request.namespace ?? '';
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

  /**
   * Serves a Connect unary call with a binary body directly (the proxy's hot path; see fast-unary.ts).
   * Returns false for anything else, which then goes to connect-node. Call after {@link mount}.
   */
  serveFastUnary(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): boolean {
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/proto') return false;
    const route = this.unary.get(req.url);
    if (!route) return false;
    const { input, output } = route.method;
    let controller: AbortController | undefined;
    const ctx = {
      requestHeader: { get: (name: string) => (req.headers[name] as string | undefined) ?? null },
      // Most calls never look at the signal: create it on demand.
      get signal() {
        controller ??= new AbortController();
        return controller.signal;
      },
      timeoutMs: () => undefined,
    } as unknown as HandlerContext;
    res.once('close', () => {
      if (!res.writableFinished) controller?.abort(new ConnectError('the caller went away', Code.Canceled));
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        let request: unknown;
        try {
          request = fromBinary(input, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
        } catch (err) {
          throw invalidArgument(`cannot decode ${input.typeName}: ${(err as Error).message}`);
        }
        const result = await route.fn(request as { namespace?: string }, ctx);
        const message = isMessage(result, output) ? result : create(output, result as never);
        res.writeHead(200, { 'content-type': 'application/proto' });
        res.end(toBinary(output, message));
      } catch (err) {
        const ce = toConnectError(err, `plugin "${this.def.name}"`);
        res.writeHead(codeToHttpStatus(ce.code), { 'content-type': 'application/json' });
        res.end(errorToJsonBytes(ce, {}));
      }
    });
    return true;
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
    });
    for (const iface of this.def.interfaces) {
      const typeName = iface.service.typeName;
      const impl: Record<string, Method> = {};
      for (const method of iface.service.methods) {
        const name = method.localName;
        // route() only returns started instances, whose handle binds every declared interface.
        const target = (instance: HostedInstance) =>
          (instance.handle!.interfaces.get(typeName) as unknown as Record<string, Method>)[name] as Method;
        if (method.methodKind === 'server_streaming') {
          const host = this;
          impl[name] = async function* (request, ctx) {
            const instance = host.route(request, ctx);
            instance.inflight++;
            try {
              yield* target(instance)(request, ctx) as AsyncIterable<unknown>;
            } finally {
              instance.done();
            }
          } as Method;
        } else {
          impl[name] = (request, ctx) => {
            const instance = this.route(request, ctx);
            return instance.track(() => target(instance)(request, ctx));
          };
          this.unary.set(`/${typeName}/${method.name}`, { method, fn: impl[name] as Method });
        }
      }
      router.service(iface.service, impl as unknown as ServiceImpl<DescService>);
    }
  }
}
