import type { DescService } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { BackendConfig } from '@prism/config';
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
  unavailable,
} from '@prism/sdk';
import type { InspectablePlugin, PluginInspection } from './plugin-status.js';

/** Backoff between attempts to start a namespace whose backend was unreachable. */
export interface BackendRetryOptions {
  /** Scale of the first delay (full jitter: a delay is random between half of it and the ceiling). */
  readonly minDelayMs?: number;
  /** Cap of one delay. */
  readonly maxDelayMs?: number;
}

/** 500 ms doubling per attempt up to 30 s, jittered (see `backoffDelay`). */
export const DEFAULT_BACKEND_RETRY: Required<BackendRetryOptions> = { minDelayMs: 500, maxDelayMs: 30_000 };

/**
 * True when a plugin failed to start because something it needs could not be reached right now (its
 * backend server, or a remote plugin's server): UNAVAILABLE, DEADLINE_EXCEEDED, or a network error
 * (connection refused, reset, DNS, timeout) anywhere in the cause chain. Everything else (an invalid
 * config, a refused secret, an unknown or unbuilt plugin package, a plugin that crashes at start) is a
 * mistake a retry cannot fix, and still fails the start.
 */
export function isBackendOutage(err: unknown): boolean {
  if (err instanceof ConnectError) {
    if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded) return true;
    // Connect reports a refused connection to a plugin server as INTERNAL/UNKNOWN with the socket error as cause.
    if (err.code !== Code.Internal && err.code !== Code.Unknown) return false;
  }
  return isConnectionError(err);
}

/** The strings of `backend.config` that came from `${env:}`/`${file:}` references (never shown). */
export function secretValues(backend: BackendConfig): string[] {
  const out: string[] = [];
  for (const path of backend.secretPaths ?? []) {
    let v: unknown = backend.config;
    for (const seg of path) v = (v as Record<string | number, unknown> | undefined)?.[seg];
    if (typeof v === 'string' && v.length >= 4) out.push(v);
  }
  return out;
}

/** Options for {@link UnavailablePlugin}. */
export interface UnavailablePluginOptions {
  readonly namespace: string;
  readonly backendType: string;
  /** Interfaces that answer UNAVAILABLE while down (what the namespace's plugin is expected to serve). */
  readonly interfaces: readonly InterfaceDefinition[];
  /** Starts the namespace's plugin (the launcher of its mode). */
  readonly launch: () => Promise<PluginHandle>;
  /** Puts a started plugin in this placeholder's place (the runtime's handle). Not called after close(). */
  readonly install: (handle: PluginHandle) => void;
  readonly logger: Logger;
  readonly retry?: BackendRetryOptions;
  /** Values scrubbed from every message and log line (the namespace's resolved secrets). */
  readonly secrets?: readonly string[];
}

type Fn = (request: unknown, ctx: CallContext) => unknown;

/**
 * The placeholder of a namespace whose plugin could not start because its backend was unreachable:
 * every call answers UNAVAILABLE naming the namespace and the cause, health is unhealthy (NOT_SERVING),
 * and a background loop keeps starting the plugin with capped, jittered exponential backoff. Once it
 * starts, `install` swaps it in and this placeholder is done. `close()` (reload, shutdown) stops the
 * loop, and closes a plugin that finished starting after it.
 */
export class UnavailablePlugin implements PluginHandle, InspectablePlugin {
  readonly version = '';
  readonly namespace: string;
  readonly interfaces: ReadonlyMap<string, AnyImpl>;
  private reason: string;
  private attempts = 1;
  private nextAttemptAt = 0;
  private readonly since = new Date();
  private readonly closed = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    firstError: unknown,
    private readonly opts: UnavailablePluginOptions,
  ) {
    this.namespace = opts.namespace;
    this.reason = this.describe(firstError);
    this.interfaces = this.buildInterfaces(opts.interfaces);
  }

  get plugin(): string {
    return this.opts.backendType;
  }

  /** Attempts to start the plugin so far (the one at start included). */
  get attemptCount(): number {
    return this.attempts;
  }

  /** Why the last attempt failed (secrets scrubbed). */
  get cause(): string {
    return this.reason;
  }

  /** Logs the failure at start and starts the retry loop. */
  begin(): void {
    const delay = this.delay(0);
    this.opts.logger.warn(
      { namespace: this.namespace, attempt: 0, err: this.reason, retryInMs: delay },
      'backend unreachable at start; the namespace answers UNAVAILABLE while the proxy keeps starting it',
    );
    this.loop = this.run(delay);
  }

  get<S extends DescService>(iface: InterfaceDefinition<S>): InterfaceImpl<S> | undefined {
    return this.interfaces.get(iface.service.typeName) as InterfaceImpl<S> | undefined;
  }

  /** For the admin API: unavailable since the start, with the last attempt's cause. */
  inspect(): PluginInspection {
    return {
      state: this.closed.signal.aborted ? 'stopped' : 'unavailable',
      restarts: 0,
      lastError: this.reason,
      since: this.since,
    };
  }

  async health(): Promise<HealthReport> {
    return {
      status: 'unhealthy',
      message: this.closed.signal.aborted
        ? 'stopped'
        : `backend unreachable since ${this.since.toISOString()} (${this.attempts} attempts): ${this.reason}`,
      details: { attempts: String(this.attempts), next_attempt_in_ms: String(this.retryInMs()) },
    };
  }

  async close(): Promise<void> {
    this.closed.abort();
    await this.loop;
  }

  private retryInMs(): number {
    return Math.max(0, this.nextAttemptAt - Date.now());
  }

  private delay(attempt: number): number {
    const ms = backoffDelay(attempt, { ...DEFAULT_BACKEND_RETRY, ...this.opts.retry });
    this.nextAttemptAt = Date.now() + ms;
    return ms;
  }

  private async run(firstDelay: number): Promise<void> {
    const signal = this.closed.signal;
    for (let delay = firstDelay; ; ) {
      try {
        await sleep(delay, signal);
      } catch {
        return; // closed while waiting
      }
      const attempt = this.attempts++;
      let handle: PluginHandle;
      try {
        handle = await this.opts.launch();
      } catch (err) {
        if (signal.aborted) return;
        this.reason = this.describe(err);
        delay = this.delay(attempt);
        this.opts.logger.warn(
          { namespace: this.namespace, attempt, err: this.reason, retryInMs: delay },
          'backend still unreachable; retrying',
        );
        continue;
      }
      if (signal.aborted) {
        await handle.close().catch(() => {});
        return;
      }
      this.opts.install(handle);
      this.opts.logger.info(
        { namespace: this.namespace, attempt, downMs: Date.now() - this.since.getTime() },
        'backend reachable: namespace serving',
      );
      return;
    }
  }

  /** The cause as callers and logs see it: without a leading `namespace "x": ` and without secrets. */
  private describe(err: unknown): string {
    let text =
      err instanceof ConnectError ? err.rawMessage : err instanceof Error ? err.message : String(err);
    const own = `namespace "${this.namespace}": `;
    if (text.startsWith(own)) text = text.slice(own.length);
    for (const s of this.opts.secrets ?? []) text = text.split(s).join('***');
    return text;
  }

  private error(): ConnectError {
    return unavailable(
      this.closed.signal.aborted
        ? `namespace "${this.namespace}" is unavailable: its plugin is stopped`
        : `namespace "${this.namespace}" is unavailable: ${this.reason}; the proxy keeps retrying (attempt ${this.attempts}, next in ${Math.ceil(this.retryInMs() / 1000)} s), retry later`,
    );
  }

  private buildInterfaces(ifaces: readonly InterfaceDefinition[]): Map<string, AnyImpl> {
    const out = new Map<string, AnyImpl>();
    for (const iface of ifaces) {
      const impl: Record<string, Fn> = {};
      for (const method of iface.service.methods) {
        const error = () => this.error();
        impl[method.localName] =
          method.methodKind === 'server_streaming'
            ? // biome-ignore lint/correctness/useYield: the stream fails before its first message
              async function* () {
                throw error();
              }
            : () => Promise.reject(error());
      }
      out.set(iface.service.typeName, impl as unknown as AnyImpl);
    }
    return out;
  }
}
