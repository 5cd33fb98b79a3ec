import type { PluginMode } from '@prism/config';
import { instantiatePlugin } from '@prism/sdk';
import type { PluginLauncher } from './namespaces.js';

/** in_process: the adapter package is imported and called directly (lowest latency). */
export const launchInProcess: PluginLauncher = async ({ namespace, backend, catalog, logger, metrics }) => {
  const def = catalog.get(backend.type);
  if (!def) throw new Error(`namespace "${namespace.name}": backend "${backend.type}" is not loaded`);
  try {
    return await instantiatePlugin(def, backend.config, {
      namespace: namespace.name,
      limits: namespace.limits,
      logger,
      metrics,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`namespace "${namespace.name}": backend "${backend.type}" failed to start: ${reason}`, {
      cause: err,
    });
  }
};

const notAvailable =
  (mode: PluginMode): PluginLauncher =>
  async ({ namespace }) => {
    throw new Error(`namespace "${namespace.name}": plugin mode "${mode}" is not available in this build`);
  };

/** The launcher for each deployment mode. */
export const defaultLaunchers: Record<PluginMode, PluginLauncher> = {
  in_process: launchInProcess,
  sidecar: notAvailable('sidecar'),
  remote: notAvailable('remote'),
};
