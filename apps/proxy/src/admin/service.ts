import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createContextKey, type ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { type InterfaceDefinition, notFound } from '@prism/sdk';
import type { DrainReport } from '../drain.js';
import { isDegraded, type NamespaceRuntime, type NamespaceTable } from '../namespaces.js';
import { isInspectable } from '../plugin-status.js';
import type { ReloadResult } from '../reload.js';
import { describeNamespace, inspectRuntime, namespaceSummary, pluginStatus } from './describe.js';
import { proxyCommit, proxyVersion } from './version.js';

/** What the admin API works on: the proxy's parts, never an adapter. */
export interface AdminContext {
  readonly table: NamespaceTable;
  /** The interfaces the proxy mounts (what a namespace can be called through). */
  readonly interfaces: readonly InterfaceDefinition[];
  /** The config file served (`<embedded default>` without one). */
  readonly configFile: string;
  readonly startedAt: Date;
  /** SIGHUP's reload. */
  reload(): Promise<ReloadResult>;
  /** Re-creates a namespace's instance from its config (plugins that cannot restart themselves). */
  recreate(namespace: string): Promise<NamespaceRuntime>;
  /** Drains the client port (once). */
  drain(timeoutMs: number): Promise<DrainReport>;
  /** Shuts the proxy down and ends the process (Drain with `exit`); called once the answer is sent. */
  exit(): void;
}

/**
 * Runs a function once the current call's response has been sent (the admin listener sets it per
 * request), so a Drain with `exit` answers before the proxy goes away.
 */
export const AFTER_RESPONSE = createContextKey<(fn: () => void) => void>((fn) => setImmediate(fn), {
  description: 'after response',
});

function runtimeOf(table: NamespaceTable, namespace: string): NamespaceRuntime {
  if (!namespace) throw new ConnectError('namespace is required', Code.InvalidArgument);
  const runtime = table.get(namespace);
  if (!runtime)
    throw notFound(
      `namespace "${namespace}" is not configured (configured: ${table.names().join(', ') || 'none'})`,
    );
  return runtime;
}

/** The reason of a failed restart, keeping a ConnectError's code (else UNAVAILABLE: try again). */
function restartFailed(namespace: string, err: unknown, keeps: string): ConnectError {
  const reason =
    err instanceof Error ? (err instanceof ConnectError ? err.rawMessage : err.message) : String(err);
  return new ConnectError(
    `restarting the plugin of namespace "${namespace}" failed; ${keeps}: ${reason}`,
    err instanceof ConnectError ? err.code : Code.Unavailable,
  );
}

/** The AdminService implementation (see proto/prism/admin/v1/admin.proto for each call's contract). */
export function createAdminService(ctx: AdminContext): ServiceImpl<typeof AdminService> {
  const { table } = ctx;
  return {
    listNamespaces: async () => ({
      namespaces: await Promise.all(table.runtimes().map((r) => namespaceSummary(r))),
    }),

    describeNamespace: async (req) => ({
      namespace: await describeNamespace(runtimeOf(table, req.namespace), ctx.interfaces),
    }),

    listPlugins: () => {
      const now = new Date();
      return { plugins: table.runtimes().map((r) => pluginStatus(r, now)) };
    },

    getPluginStatus: (req) => ({ plugin: pluginStatus(runtimeOf(table, req.namespace)) }),

    restartPlugin: async (req) => {
      const runtime = runtimeOf(table, req.namespace);
      const previousPid = inspectRuntime(runtime).pid ?? 0;
      const handle = runtime.handle;
      // Sidecar and remote plugins restart in place (the supervisor counts it); a plain in-process
      // instance, or a namespace still waiting for its backend, is re-created as a reload would.
      if (!isDegraded(runtime) && isInspectable(handle) && handle.restart) {
        await handle.restart().catch((err: unknown) => {
          const up = inspectRuntime(runtime).state === 'running';
          throw restartFailed(
            req.namespace,
            err,
            up ? 'the previous plugin keeps serving' : 'the supervisor keeps restarting it',
          );
        });
        return {
          plugin: pluginStatus(runtime),
          previousPid,
          action: runtime.mode === 'sidecar' ? 'sidecar process replaced' : 'remote plugin instance replaced',
        };
      }
      const fresh = await ctx.recreate(req.namespace).catch((err: unknown) => {
        throw restartFailed(req.namespace, err, 'the previous instance keeps serving');
      });
      if (isDegraded(fresh))
        throw new ConnectError(
          `namespace "${req.namespace}" is still unavailable: ${inspectRuntime(fresh).lastError}; the proxy keeps starting it`,
          Code.Unavailable,
        );
      return {
        plugin: pluginStatus(fresh),
        previousPid,
        action: isDegraded(runtime)
          ? 'plugin started (its backend is reachable again)'
          : runtime.mode === 'in_process'
            ? 'in-process instance re-created'
            : 'plugin instance re-created',
      };
    },

    reloadConfig: async () => {
      const r = await ctx.reload();
      return {
        ok: r.ok,
        error: r.error ?? '',
        problems: (r.problems ?? []).map((p) => ({
          file: p.file,
          line: p.line ?? 0,
          column: p.column ?? 0,
          namespace: p.namespace ?? '',
          field: p.field,
          message: p.message,
        })),
        started: [...r.started],
        kept: [...r.kept],
        removed: [...r.removed],
        configFile: ctx.configFile,
      };
    },

    drain: async (req, call) => {
      const report = await ctx.drain(req.timeoutMs);
      if (req.exit) call.values.get(AFTER_RESPONSE)(() => ctx.exit());
      return { ...report, exiting: req.exit };
    },

    getVersion: () => {
      const now = Date.now();
      return {
        version: proxyVersion(),
        nodeVersion: process.version,
        commit: proxyCommit() ?? '',
        startedAt: timestampFromDate(ctx.startedAt),
        uptimeSeconds: (now - ctx.startedAt.getTime()) / 1000,
        pid: process.pid,
        configFile: ctx.configFile,
      };
    },
  };
}
