export { bundledBackendTypes, PluginCatalog } from './catalog.js';
export {
  type BackendRetryOptions,
  DEFAULT_BACKEND_RETRY,
  isBackendOutage,
  UnavailablePlugin,
} from './degraded.js';
export type { DrainReport } from './drain.js';
export { HealthService } from './health.js';
export { KNOWN_INTERFACES } from './interfaces.js';
export { createLaunchers, defaultLaunchers, type LauncherOptions, launchInProcess } from './launchers.js';
export { loadProxyConfig, UnservedConfigError, unservedProblems } from './load.js';
export { ProxyMetrics } from './metrics.js';
export {
  isDegraded,
  type LaunchContext,
  type NamespaceRuntime,
  NamespaceTable,
  type PluginLauncher,
  type StartOptions,
  startNamespaces,
} from './namespaces.js';
export { Reloader, type ReloadResult } from './reload.js';
export { type ProxyOptions, type RunningProxy, startProxy } from './server.js';
export { resolvePluginBin, sidecarEnvironment } from './sidecar.js';
export { SupervisedPlugin } from './supervisor.js';
