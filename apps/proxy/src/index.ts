export { bundledBackendTypes, PluginCatalog } from './catalog.js';
export { HealthService } from './health.js';
export { KNOWN_INTERFACES } from './interfaces.js';
export { defaultLaunchers, launchInProcess } from './launchers.js';
export { loadProxyConfig } from './load.js';
export {
  type LaunchContext,
  type NamespaceRuntime,
  NamespaceTable,
  type PluginLauncher,
} from './namespaces.js';
export { type ProxyOptions, type RunningProxy, startProxy } from './server.js';
