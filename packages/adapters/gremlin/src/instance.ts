import { analyticsImpl, GraphAnalytics } from '@prism/graph-analytics';
import { GraphBasic } from '@prism/graph-basic';
import { GraphQuery } from '@prism/graph-query';
import { GraphTraversal } from '@prism/graph-traversal';
import {
  type HealthReport,
  healthy,
  implement,
  type PluginContext,
  type PluginInstance,
  unhealthy,
  type z,
} from '@prism/sdk';
import { gremlinBasic } from './basic.js';
import type { gremlinFields } from './config.js';
import { GremlinConnection } from './connection.js';
import { gremlinQuery } from './query.js';
import { GremlinWalks } from './traversal.js';

/** The interface flavours every Gremlin-speaking backend implements. */
export const GREMLIN_INTERFACES = [GraphBasic, GraphTraversal, GraphQuery, GraphAnalytics] as const;
/** Neptune's flavours: no graph_query (see the neptune README). */
export const NEPTUNE_INTERFACES = [GraphBasic, GraphTraversal, GraphAnalytics] as const;

/** The shared config fields after defaults (see `gremlinFields`). */
export type GremlinFields = z.output<z.ZodObject<typeof gremlinFields>>;

/** What a Gremlin-speaking plugin (gremlin, neptune) hands {@link createGremlinInstance}. */
export interface GremlinInstanceOptions {
  /** `ws://` or `wss://` URL of the Gremlin endpoint. */
  readonly url: string;
  /** Backend type for messages (`gremlin`, `neptune`). */
  readonly backend: string;
  readonly fields: GremlinFields;
  readonly ca?: string;
  readonly rejectUnauthorized?: boolean;
  /** Handshake headers, computed for every new connection (Neptune's SigV4 signature). */
  readonly headers?: () => Promise<Record<string, string>>;
  /** Bind graph_query (default true; Neptune cannot run the Groovy ElementIdStrategy it needs). */
  readonly query?: boolean;
}

/** Builds one namespace's instance: a connection, and the four graph flavours over it. */
export function createGremlinInstance(opts: GremlinInstanceOptions, ctx: PluginContext): PluginInstance {
  const partition = opts.fields.partition ?? ctx.namespace;
  const where = `${opts.backend} backend of namespace "${ctx.namespace}"`;
  const conn = new GremlinConnection({
    url: opts.url,
    where,
    partition,
    traversalSource: opts.fields.traversal_source,
    requestTimeoutMs: opts.fields.request_timeout_ms,
    connectTimeoutMs: opts.fields.connect_timeout_ms,
    logger: ctx.logger,
    ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
    ...(opts.headers ? { headers: opts.headers } : {}),
  });
  const walks = new GremlinWalks(conn, partition, {
    maxTraversalDepth: opts.fields.max_traversal_depth,
    maxVisited: opts.fields.max_visited_vertices,
  });
  return {
    bindings: [
      implement(GraphBasic, gremlinBasic(conn, partition)),
      implement(GraphTraversal, walks.impl()),
      ...(opts.query === false
        ? []
        : [
            implement(
              GraphQuery,
              gremlinQuery(conn, partition, {
                allowWrites: opts.fields.allow_writes,
                traversalSource: opts.fields.traversal_source,
                readOnlyTraversalSource: opts.fields.read_only_traversal_source,
              }),
            ),
          ]),
      implement(
        GraphAnalytics,
        analyticsImpl(walks.analytics(), { maxTraversalDepth: opts.fields.max_traversal_depth }),
      ),
    ],
    // Not fatal when the server is down at start: calls answer UNAVAILABLE and the next one reconnects.
    start: async () => {
      try {
        await conn.start();
      } catch (err) {
        ctx.logger.warn(
          { err: (err as Error).message },
          `${where}: not reachable at start; will retry per call`,
        );
      }
    },
    health: async (): Promise<HealthReport> => {
      try {
        await conn.traverse((g) => g.inject(1).toList());
        return healthy({ url: opts.url });
      } catch (err) {
        return unhealthy((err as Error).message, { url: opts.url });
      }
    },
    close: () => conn.close(),
  };
}
