import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type {
  HealthSchema,
  NamespaceDescriptionSchema,
  NamespaceSummarySchema,
  PluginStatusSchema,
} from '@prism/proto/prism/admin/v1/admin_pb';
import type { HealthReport, InterfaceDefinition } from '@prism/sdk';
import type { NamespaceRuntime } from '../namespaces.js';
import { isInspectable, type PluginInspection } from '../plugin-status.js';

type PluginStatus = MessageInitShape<typeof PluginStatusSchema>;
type Health = MessageInitShape<typeof HealthSchema>;

/** How long one plugin may take to report its health before it counts as unhealthy. */
const HEALTH_TIMEOUT_MS = 3000;

/** The state of a runtime's plugin; plain in-process handles report nothing, so the runtime answers. */
export function inspectRuntime(runtime: NamespaceRuntime): PluginInspection {
  const h = runtime.handle;
  if (isInspectable(h)) {
    const i = h.inspect();
    return { ...i, restarts: i.restarts + runtime.restarts };
  }
  return { state: 'running', restarts: runtime.restarts, lastError: '', since: runtime.startedAt };
}

/** The plugin's health, bounded in time (a hung backend must not hang the admin API). */
export async function healthOf(runtime: NamespaceRuntime): Promise<HealthReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: 'unhealthy',
          message: `health check did not answer within ${HEALTH_TIMEOUT_MS} ms`,
        }),
      HEALTH_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      runtime.handle
        .health()
        .catch((err: unknown): HealthReport => ({ status: 'unhealthy', message: (err as Error).message })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One row of ListPlugins / GetPluginStatus. */
export function pluginStatus(runtime: NamespaceRuntime, now = new Date()): PluginStatus {
  const i = inspectRuntime(runtime);
  const running = i.state === 'running';
  return {
    namespace: runtime.name,
    backendType: runtime.backendType,
    pluginMode: runtime.mode,
    state: i.state,
    plugin: running ? runtime.handle.plugin : runtime.backendType,
    version: running ? runtime.handle.version : '',
    pid: i.pid ?? 0,
    restarts: i.restarts,
    lastError: i.lastError,
    startedAt: timestampFromDate(i.since),
    uptimeSeconds: Math.max(0, (now.getTime() - i.since.getTime()) / 1000),
    inFlight: runtime.inflight.count,
    endpoint: runtime.config.backend?.plugin.endpoint ?? '',
  };
}

/** One row of ListNamespaces. */
export async function namespaceSummary(
  runtime: NamespaceRuntime,
): Promise<MessageInitShape<typeof NamespaceSummarySchema>> {
  return {
    name: runtime.name,
    pattern: runtime.config.pattern,
    backendType: runtime.backendType,
    pluginMode: runtime.mode,
    health: (await healthOf(runtime)).status,
    state: inspectRuntime(runtime).state,
  };
}

function healthMessage(report: HealthReport): Health {
  return { status: report.status, message: report.message ?? '', details: { ...report.details } };
}

/** DescribeNamespace's answer. `mounted`: the interfaces the proxy serves (only those can be called). */
export async function describeNamespace(
  runtime: NamespaceRuntime,
  mounted: readonly InterfaceDefinition[],
): Promise<MessageInitShape<typeof NamespaceDescriptionSchema>> {
  const ns = runtime.config;
  const backend = ns.backend;
  const served = mounted.filter((i) => runtime.handle.interfaces.has(i.service.typeName));
  return {
    name: ns.name,
    pattern: ns.pattern,
    needs: [...ns.needs],
    backend: {
      type: runtime.backendType,
      pluginMode: runtime.mode,
      endpoint: backend?.plugin.endpoint ?? '',
      package: backend?.plugin.package ?? '',
      tls: backend?.plugin.tls !== undefined,
    },
    interfaces: served.map((i) => i.service.typeName),
    flavours: served.map((i) => i.name),
    health: healthMessage(await healthOf(runtime)),
    limits: {
      maxKeyBytes: ns.limits.maxKeyBytes,
      maxValueBytes: ns.limits.maxValueBytes,
      ...(ns.rate && {
        rate: { requestsPerSecond: ns.rate.requestsPerSecond, burst: ns.rate.burst, per: ns.rate.per },
      }),
      maxConcurrent: ns.maxConcurrent ?? 0,
    },
    access: ns.access.map((r) => ({ principals: [...r.principals], permissions: [...r.permissions] })),
    plugin: pluginStatus(runtime),
    source: `${ns.source.file}:${ns.source.line}`,
  };
}
