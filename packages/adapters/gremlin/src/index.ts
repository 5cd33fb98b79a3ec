import { definePlugin, endpointId, type Isolation } from '@prism/sdk';
import { GremlinConfig } from './config.js';
import { createGremlinInstance, GREMLIN_INTERFACES } from './instance.js';

export { GremlinConfig, GremlinTlsConfig, gremlinFields } from './config.js';
export { ID_KEY, PARTITION_KEY } from './connection.js';
export {
  createGremlinInstance,
  GREMLIN_INTERFACES,
  type GremlinFields,
  type GremlinInstanceOptions,
  NEPTUNE_INTERFACES,
} from './instance.js';

/** Where a namespace lives on a Gremlin endpoint: the partition (prism.ns) on the server's graph. */
export function gremlinIsolation(url: string, partition: string, field?: string): Isolation | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  return {
    endpoints: [endpointId(u.hostname, u.port || 8182)],
    scopes: [
      { kind: 'graph partition (prism.ns)', value: partition, match: 'exact', ...(field ? { field } : {}) },
    ],
  };
}

/** The Gremlin backend (TinkerPop Gremlin Server): one WebSocket connection per namespace, one partition each. */
export default definePlugin({
  name: 'gremlin',
  version: '0.1.0',
  description:
    'Apache TinkerPop Gremlin Server (gremlin driver): graph basic, traversal, parameterised Gremlin queries and analytics',
  interfaces: [...GREMLIN_INTERFACES],
  configSchema: GremlinConfig,
  isolation: (config, namespace) =>
    gremlinIsolation(config.url, config.partition ?? namespace, config.partition ? 'partition' : undefined),
  create: (config, ctx) =>
    createGremlinInstance(
      {
        url: config.url,
        backend: 'gremlin',
        fields: config,
        ...(config.tls?.ca === undefined ? {} : { ca: config.tls.ca }),
        ...(config.tls ? { rejectUnauthorized: config.tls.reject_unauthorized } : {}),
      },
      ctx,
    ),
});
export {
  type AwsCredentials,
  createNeptuneInstance,
  NeptuneConfig,
  type NeptuneHandshake,
  neptuneCredentials,
  signNeptuneHandshake,
} from './neptune.js';
