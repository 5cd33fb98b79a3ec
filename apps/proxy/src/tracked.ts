import type { DescService } from '@bufbuild/protobuf';
import type {
  AnyImpl,
  CallContext,
  HealthReport,
  InterfaceDefinition,
  InterfaceImpl,
  PluginHandle,
} from '@prism/sdk';
import type { NamespaceMetrics } from './metrics.js';

type Fn = (request: unknown, ctx: CallContext) => unknown;

/** A handle that can wait for its calls in flight (what a reload does before closing it). */
export interface DrainableHandle extends PluginHandle {
  /** Resolves when no call is in flight, or after `timeoutMs`, with the number still running. */
  drain(timeoutMs: number): Promise<number>;
}

/** True when a handle counts its calls (supervised and tracked handles do). */
export function isDrainable(handle: PluginHandle): handle is DrainableHandle {
  return typeof (handle as Partial<DrainableHandle>).drain === 'function';
}

/**
 * Wraps an in-process handle to count calls in flight (for drains on reload) and requests/errors
 * (metrics). The cost per call is one counter increment and one promise continuation.
 */
export class TrackedHandle implements DrainableHandle {
  readonly interfaces: ReadonlyMap<string, AnyImpl>;
  private inflight = 0;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly inner: PluginHandle,
    metrics: NamespaceMetrics,
  ) {
    const out = new Map<string, AnyImpl>();
    const done = () => {
      if (--this.inflight === 0) this.onIdle?.();
    };
    const failed = (err: unknown): never => {
      metrics.errors.inc();
      throw err;
    };
    for (const [typeName, impl] of inner.interfaces) {
      const wrapped: Record<string, Fn> = {};
      for (const [name, f] of Object.entries(impl)) {
        const fn = f as unknown as Fn;
        const self = this;
        wrapped[name] = (request: unknown, ctx: CallContext) => {
          metrics.requests.inc();
          const result = fn(request, ctx);
          if (result instanceof Promise) {
            self.inflight++;
            return result.then(
              (res) => {
                done();
                return res;
              },
              (err) => {
                done();
                return failed(err);
              },
            );
          }
          if (result && typeof result === 'object' && Symbol.asyncIterator in result)
            return (async function* () {
              self.inflight++;
              try {
                yield* result as AsyncIterable<unknown>;
              } catch (err) {
                failed(err);
              } finally {
                done();
              }
            })();
          return result;
        };
      }
      out.set(typeName, wrapped);
    }
    this.interfaces = out;
  }

  get plugin(): string {
    return this.inner.plugin;
  }
  get version(): string {
    return this.inner.version;
  }
  get namespace(): string {
    return this.inner.namespace;
  }

  get<S extends DescService>(iface: InterfaceDefinition<S>): InterfaceImpl<S> | undefined {
    return this.interfaces.get(iface.service.typeName) as InterfaceImpl<S> | undefined;
  }

  health(): Promise<HealthReport> {
    return this.inner.health();
  }

  drain(timeoutMs: number): Promise<number> {
    if (this.inflight === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(this.inflight);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.onIdle = finish;
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
