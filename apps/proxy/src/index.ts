export { bundledBackendTypes, PluginCatalog } from './catalog.js';
export { HealthService } from './health.js';
export { KNOWN_INTERFACES } from './interfaces.js';
export { createLaunchers, defaultLaunchers, type LauncherOptions, launchInProcess } from './launchers.js';
export { loadProxyConfig } from './load.js';
export { ProxyMetrics } from './metrics.js';
export {
  type LaunchContext,
  type NamespaceRuntime,
  NamespaceTable,
  type PluginLauncher,
} from './namespaces.js';
export { Reloader, type ReloadResult } from './reload.js';
export { type ProxyOptions, type RunningProxy, startProxy } from './server.js';
export { resolvePluginBin } from './sidecar.js';
export { SupervisedPlugin } from './supervisor.js';
