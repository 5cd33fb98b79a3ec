import type { DescService } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { PluginMode } from '@prism/config';
import {
  type AnyImpl,
  backoffDelay,
  type CallContext,
  type HealthReport,
  type InterfaceDefinition,
  type InterfaceImpl,
  isConnectionError,
  type Logger,
  type PluginHandle,
  sleep,
  toHealthReport,
  unavailable,
} from '@prism/sdk';
import type { Attached } from './attach.js';
import type { MetricsJson, MetricsSource, NamespaceMetrics } from './metrics.js';
import type { InspectablePlugin, PluginInspection } from './plugin-status.js';

/** One live connection to an out-of-process plugin instance (sidecar process or remote server). */
export interface PluginConnection {
  readonly attached: Attached;
  /** Sidecar process id. */
  readonly pid?: number;
  /** Settles when the connection is lost for good (the sidecar process exited). */
  readonly lost?: Promise<string>;
  /** Drains/stops the instance (best effort), ends the process, closes the connection. */
  dispose(): Promise<void>;
}

/** Makes a fresh connection: spawn + wait ready + lifecycle for a sidecar, lifecycle for a remote. */
export type Connector = () => Promise<PluginConnection>;

/** Options for {@link SupervisedPlugin}. */
export interface SupervisorOptions {
  readonly namespace: string;
  readonly mode: PluginMode;
  /** Human name of the target for messages, e.g. `sidecar prism-plugin-redis`. */
  readonly where: string;
  readonly connect: Connector;
  readonly logger: Logger;
  readonly metrics: NamespaceMetrics;
  /** Period of lifecycle HealthChecks. Default 2000 ms. */
  readonly healthIntervalMs?: number;
  /** Backoff between restart attempts. Defaults 100 ms → 10 s. */
  readonly minRestartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** Called once by close(). */
  readonly onClose?: () => void;
}

type Fn = (request: unknown, ctx: CallContext) => unknown;
type State = 'up' | 'down' | 'closed';

/**
 * A {@link PluginHandle} over an out-of-process plugin that keeps it alive: periodic health checks, a
 * restart with exponential backoff when the process dies or the plugin loses its instance, and a
 * circuit breaker so calls fail with UNAVAILABLE at once while it is down (no hanging calls). The
 * breaker is part of the connection it guards, so it lives here rather than as a middleware; counting,
 * metrics and drains are the pipeline's.
 */
export class SupervisedPlugin implements PluginHandle, InspectablePlugin {
  readonly namespace: string;
  readonly interfaces: ReadonlyMap<string, AnyImpl>;
  private current: PluginConnection | undefined;
  private state: State = 'up';
  private lastError = '';
  private restartCount = 0;
  /** When the current connection was installed, or when it was lost. */
  private since = new Date();
  /** True while a restart loop runs (one at a time: a second failure is handled by the same loop). */
  private looping = false;
  /** The admin restart in progress (concurrent requests share it). */
  private restarting: Promise<void> | undefined;
  private readonly closed = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  /** Consecutive health check failures that did not clearly mean "gone". */
  private strikes = 0;

  constructor(
    first: PluginConnection,
    private readonly opts: SupervisorOptions,
  ) {
    this.namespace = opts.namespace;
    this.interfaces = this.buildInterfaces(first.attached.interfaces);
    this.install(first);
    this.timer = setInterval(() => void this.check(), opts.healthIntervalMs ?? 2000);
    this.timer.unref();
  }

  get plugin(): string {
    return this.current?.attached.describe.name ?? 'unknown';
  }

  get version(): string {
    return this.current?.attached.describe.version ?? '';
  }

  /** Process id of the current sidecar (undefined for remote plugins or while down). */
  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** Successful restarts so far. */
  get restarts(): number {
    return this.restartCount;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  get<S extends DescService>(iface: InterfaceDefinition<S>): InterfaceImpl<S> | undefined {
    return this.interfaces.get(iface.service.typeName) as InterfaceImpl<S> | undefined;
  }

  private install(conn: PluginConnection): void {
    this.current = conn;
    this.strikes = 0;
    this.state = 'up';
    this.since = new Date();
    this.opts.metrics.setUp(true);
    conn.lost?.then((reason) => {
      if (this.current === conn) this.fail(reason);
    });
  }

  private downError(): ConnectError {
    return unavailable(
      `namespace "${this.namespace}": its plugin (${this.opts.where}) is ${this.state === 'closed' ? 'stopped' : `down and restarting: ${this.lastError}`}; retry later`,
    );
  }

  private buildInterfaces(ifaces: readonly InterfaceDefinition[]): Map<string, AnyImpl> {
    const out = new Map<string, AnyImpl>();
    const failed = (err: unknown, ctx: CallContext) => {
      const lost = this.connectionLost(err);
      // A lost connection shows here before the periodic check sees it: check now.
      if (lost) void this.check();
      // A call cut by a crash or a refused connection is retryable (UNAVAILABLE), unlike a caller's cancel.
      if (lost || (err instanceof ConnectError && err.code === Code.Canceled && !ctx.signal.aborted))
        throw unavailable(
          `namespace "${this.namespace}": the connection to its plugin (${this.opts.where}) was lost: ${ConnectError.from(err).rawMessage}; retry`,
        );
      throw err;
    };
    for (const iface of ifaces) {
      const typeName = iface.service.typeName;
      const impl: Record<string, Fn> = {};
      for (const method of iface.service.methods) {
        const name = method.localName;
        const target = () => {
          const conn = this.current;
          if (this.state !== 'up' || !conn) throw this.downError();
          return (conn.attached.handle.interfaces.get(typeName) as unknown as Record<string, Fn>)[name] as Fn;
        };
        if (method.methodKind === 'server_streaming') {
          impl[name] = async function* (request: unknown, ctx: CallContext) {
            const fn = target();
            try {
              yield* fn(request, ctx) as AsyncIterable<unknown>;
            } catch (err) {
              failed(err, ctx);
            }
          };
        } else {
          impl[name] = (request: unknown, ctx: CallContext) =>
            (target()(request, ctx) as Promise<unknown>).catch((err) => failed(err, ctx));
        }
      }
      out.set(typeName, impl);
    }
    return out;
  }

  /** True for errors that mean the plugin cannot be reached (Connect reports ECONNREFUSED as INTERNAL). */
  private connectionLost(err: unknown): boolean {
    if (!(err instanceof ConnectError)) return isConnectionError(err);
    return err.code === Code.Unavailable || isConnectionError(err);
  }

  /** One health check; a lost plugin (connection refused, instance unknown) goes down and restarts. */
  private async check(): Promise<void> {
    const conn = this.current;
    if (this.state !== 'up' || !conn || this.checking) return;
    this.checking = true;
    try {
      await conn.attached.lifecycle.healthCheck(
        { instanceId: conn.attached.instanceId },
        { timeoutMs: 2000 },
      );
      this.strikes = 0;
    } catch (err) {
      const ce = ConnectError.from(err);
      this.opts.logger.debug(
        { namespace: this.namespace, code: Code[ce.code], err: ce.rawMessage },
        'health check failed',
      );
      // Connection refused or instance unknown: down now. Anything else (a timeout, a broken session):
      // down on the second failure in a row, so one slow answer does not restart a healthy plugin.
      const lost = ce.code === Code.NotFound || this.connectionLost(err);
      if (this.current === conn && (lost || ++this.strikes >= 2))
        this.fail(`health check failed (${Code[ce.code]}): ${ce.rawMessage}`);
    } finally {
      this.checking = false;
    }
  }

  /** Opens the circuit and starts the restart loop. */
  private fail(reason: string): void {
    if (this.state !== 'up') return;
    this.state = 'down';
    this.lastError = reason;
    this.since = new Date();
    this.opts.metrics.setUp(false);
    this.opts.logger.warn({ namespace: this.namespace, reason }, 'plugin down; restarting');
    const old = this.current;
    this.current = undefined;
    void old?.dispose().catch(() => {});
    if (!this.looping) void this.restartLoop();
  }

  private async restartLoop(): Promise<void> {
    this.looping = true;
    try {
      await this.restartAttempts();
    } finally {
      this.looping = false;
    }
    // A connection lost again between the loop's last step and here found the loop still running.
    if (this.state === 'down' && !this.closed.signal.aborted) void this.restartLoop();
  }

  /** Reconnects with backoff until it works, the plugin is closed, or an admin restart brought it back. */
  private async restartAttempts(): Promise<void> {
    const signal = this.closed.signal;
    for (let attempt = 0; !signal.aborted && this.state === 'down'; attempt++) {
      try {
        await sleep(
          backoffDelay(attempt, {
            minDelayMs: this.opts.minRestartDelayMs ?? 100,
            maxDelayMs: this.opts.maxRestartDelayMs ?? 10_000,
          }),
          signal,
        );
      } catch {
        return; // closed while waiting
      }
      if (this.state !== 'down') return; // an admin restart installed a connection meanwhile
      try {
        const conn = await this.opts.connect();
        if (signal.aborted || this.state !== 'down') {
          await conn.dispose();
          return;
        }
        this.restartCount++;
        this.opts.metrics.restarts.inc();
        this.install(conn);
        this.opts.logger.info({ namespace: this.namespace, attempt, pid: conn.pid }, 'plugin restarted');
        return;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.opts.logger.warn(
          { namespace: this.namespace, attempt, err: this.lastError },
          'plugin restart failed',
        );
      }
    }
  }

  /** State, pid, restarts and last error for the admin API. */
  inspect(): PluginInspection {
    return {
      state: this.state === 'up' ? 'running' : this.state === 'down' ? 'restarting' : 'stopped',
      pid: this.current?.pid,
      restarts: this.restartCount,
      lastError: this.lastError,
      since: this.since,
    };
  }

  /**
   * The admin API's restart: connects anew (a new sidecar process, a new instance on a remote plugin
   * server) while the old connection keeps serving, switches new calls to it, then drains and stops the
   * old one, so no call fails. When the new connection cannot be made, the old one keeps serving (or,
   * while down, the restart loop keeps trying) and this rejects with the cause.
   */
  restart(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.downError());
    this.restarting ??= (async () => {
      try {
        const conn = await this.opts.connect();
        if (this.state === 'closed') {
          await conn.dispose();
          throw this.downError();
        }
        const old = this.current;
        this.restartCount++;
        this.opts.metrics.restarts.inc();
        this.install(conn);
        this.opts.logger.info(
          { namespace: this.namespace, pid: conn.pid, previousPid: old?.pid },
          'plugin restarted on request',
        );
        await old
          ?.dispose()
          .catch((err: Error) =>
            this.opts.logger.warn(
              { namespace: this.namespace, err: err.message },
              'stopping the replaced plugin failed',
            ),
          );
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  async health(): Promise<HealthReport> {
    const conn = this.current;
    if (this.state !== 'up' || !conn)
      return {
        status: 'unhealthy',
        message: this.state === 'closed' ? 'stopped' : `restarting: ${this.lastError}`,
      };
    try {
      const res = await conn.attached.lifecycle.healthCheck(
        { instanceId: conn.attached.instanceId },
        { timeoutMs: 2000 },
      );
      return toHealthReport(res);
    } catch (err) {
      return { status: 'unhealthy', message: ConnectError.from(err).rawMessage };
    }
  }

  /** The plugin process's metrics (lifecycle Metrics), merged into the proxy's at scrape time. */
  metricsSource(): MetricsSource | undefined {
    const conn = this.current;
    if (this.state !== 'up' || !conn) return undefined;
    return {
      key: `${this.opts.where}#${conn.pid ?? ''}`,
      read: async () => {
        const res = await conn.attached.lifecycle.metrics({}, { timeoutMs: 1000 });
        return res.metricsJson ? (JSON.parse(res.metricsJson) as MetricsJson) : [];
      },
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.opts.onClose?.();
    this.opts.metrics.setUp(false);
    this.closed.abort();
    clearInterval(this.timer);
    const conn = this.current;
    this.current = undefined;
    await conn?.dispose();
  }
}
