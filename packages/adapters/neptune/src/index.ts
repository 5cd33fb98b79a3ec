import {
  createNeptuneInstance,
  gremlinIsolation,
  NEPTUNE_INTERFACES,
  NeptuneConfig,
} from '@prism/adapter-gremlin';
import { definePlugin } from '@prism/sdk';

export { NeptuneConfig, signNeptuneHandshake } from '@prism/adapter-gremlin';

/**
 * Amazon Neptune: the Gremlin adapter over wss:// with the WebSocket handshake signed with IAM SigV4
 * (service `neptune-db`). Gremlin-compatible, tested against Apache TinkerPop Gremlin Server.
 */
export default definePlugin({
  name: 'neptune',
  version: '0.1.0',
  description: 'Amazon Neptune (gremlin driver, IAM SigV4, TLS): graph basic, traversal and analytics',
  interfaces: [...NEPTUNE_INTERFACES],
  omitted: {
    graph_query:
      'namespaces share one Neptune graph, and graph_query addresses elements by client id through TinkerPop ElementIdStrategy, which Neptune does not support (and it runs no Groovy); a per-namespace dedicated cluster mode is not in this version',
  },
  configSchema: NeptuneConfig,
  isolation: (config, namespace) =>
    gremlinIsolation(
      `wss://${config.endpoint}:${config.port}/gremlin`,
      config.partition ?? namespace,
      config.partition ? 'partition' : undefined,
    ),
  create: (config, ctx) => createNeptuneInstance(config, ctx),
});
