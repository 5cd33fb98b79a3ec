import type { ConnectRouter } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@prism/proto/grpc/health/v1/health_pb';
import { type InterfaceDefinition, notFound, sleep } from '@prism/sdk';
import type { NamespaceTable } from './namespaces.js';

/** How often a Watch re-evaluates plugin health (plugins report health on demand, not by events). */
const WATCH_INTERVAL_MS = 1000;

/**
 * grpc.health.v1: service "" is the proxy itself; a namespace name reports that namespace's plugin
 * health (healthy and degraded → SERVING); a mounted interface type name is SERVING while the proxy is.
 */
export { Health };

export class HealthService {
  private shuttingDown = false;
  private readonly polls = new Map<string, { at: number; status: Promise<Status | undefined> }>();

  constructor(
    private readonly table: NamespaceTable,
    private readonly interfaces: readonly InterfaceDefinition[],
  ) {}

  /** Marks everything NOT_SERVING (graceful shutdown started). */
  setShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Current status of a service name; undefined when the name is unknown. */
  async status(service: string): Promise<Status | undefined> {
    if (service === '') return this.shuttingDown ? Status.NOT_SERVING : Status.SERVING;
    const runtime = this.table.get(service);
    if (runtime) {
      if (this.shuttingDown) return Status.NOT_SERVING;
      const report = await runtime.handle.health();
      return report.status === 'unhealthy' ? Status.NOT_SERVING : Status.SERVING;
    }
    if (this.interfaces.some((i) => i.service.typeName === service))
      return this.shuttingDown ? Status.NOT_SERVING : Status.SERVING;
    return undefined;
  }

  /**
   * The status as watchers see it: every Watch of one service shares one evaluation per interval, so a
   * thousand watchers on a sidecar namespace cost one plugin health call per second, not a thousand.
   */
  private polled(service: string): Promise<Status | undefined> {
    const now = Date.now();
    const hit = this.polls.get(service);
    if (hit && now - hit.at < WATCH_INTERVAL_MS) return hit.status;
    const status = this.status(service);
    this.polls.set(service, { at: now, status });
    // Forget services nobody watches any more (the map only holds recently polled names).
    if (this.polls.size > 1000)
      for (const [k, v] of this.polls) if (now - v.at >= WATCH_INTERVAL_MS) this.polls.delete(k);
    return status;
  }

  /** Streams the status of `service` whenever it changes, until the caller goes away. */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<{ status: Status }> {
    let last: Status | undefined;
    while (!signal.aborted) {
      const status = (await this.polled(service)) ?? Status.SERVICE_UNKNOWN;
      if (status !== last) {
        last = status;
        yield { status };
      }
      await sleep(WATCH_INTERVAL_MS, signal).catch(() => {});
    }
  }

  mount(router: ConnectRouter): void {
    router.service(Health, {
      check: async (req) => {
        const status = await this.status(req.service);
        if (status === undefined)
          throw notFound(`unknown service "${req.service}": use "", a namespace or an interface`);
        return { status };
      },
      watch: (req, ctx) => this.watch(req.service, ctx.signal),
    });
  }
}
