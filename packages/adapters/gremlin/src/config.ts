import { DEFAULT_MAX_TRAVERSAL_DEPTH, MAX_TRAVERSAL_DEPTH_CEILING } from '@prism/graph-traversal';
import { z } from '@prism/sdk';

/** TLS settings for `wss://`; PEM text (use `${file:/path}` references in YAML for files). */
export const GremlinTlsConfig = z.strictObject({
  /** Trusted CA certificate(s), PEM. Default: the system store. */
  ca: z.string().optional(),
  /** Verify the server certificate (default true; false only for tests). */
  reject_unauthorized: z.boolean().default(true),
});

/** The fields every Gremlin-speaking backend shares (Gremlin Server, and Neptune on top of it). */
export const gremlinFields = {
  /**
   * Traversal source for reads and writes (the request alias `g` maps to it). Gremlin Server: a name its
   * init script defines; Neptune: `g`.
   */
  traversal_source: z.string().min(1).default('g'),
  /**
   * A traversal source with ReadOnlyStrategy on the same graph, defined by the server's init script: graph_query
   * traversals of a namespace without allow_writes run against it, so the server refuses mutations even if
   * the lexical check missed one. Unset: the lexical check is the only guard (Neptune cannot define sources).
   */
  read_only_traversal_source: z.string().min(1).optional(),
  /** graph_query may run mutating traversals (addV, property, drop, ...). Default false. */
  allow_writes: z.boolean().default(false),
  /** The deepest traversal graph_traversal and graph_analytics allow (contract default 6, at most 32). */
  max_traversal_depth: z
    .number()
    .int()
    .min(1)
    .max(MAX_TRAVERSAL_DEPTH_CEILING)
    .default(DEFAULT_MAX_TRAVERSAL_DEPTH),
  /**
   * Value of the namespace's partition property (`prism.ns`) and prefix of its element ids. Default: the
   * namespace name. Two namespaces with the same value see the same data.
   */
  partition: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'must be 1-63 characters of a-z, 0-9 and "-"' })
    .optional(),
  /** Most vertices a shortest-path search may visit before it fails with INVALID_ARGUMENT. */
  max_visited_vertices: z.number().int().positive().max(1_000_000).default(100_000),
  /** How long one request may take before the call fails (evaluationTimeout sent to the server). */
  request_timeout_ms: z.number().int().positive().default(30_000),
  /** How long to wait for the WebSocket to open. */
  connect_timeout_ms: z.number().int().positive().default(5000),
};

/** `backend.config` of a gremlin namespace. Unknown fields are rejected so typos surface at load. */
export const GremlinConfig = z.strictObject({
  /** `ws://host:port/gremlin` or `wss://...` (TLS). */
  url: z
    .string()
    .default('ws://127.0.0.1:8182/gremlin')
    .refine((u) => /^wss?:\/\/[^\s]+$/.test(u), { message: 'must be a ws:// or wss:// URL' }),
  /** TLS options for `wss://` URLs. */
  tls: GremlinTlsConfig.optional(),
  ...gremlinFields,
});

/** Config accepted by the gremlin backend (defaults applied). */
export type GremlinConfig = z.output<typeof GremlinConfig>;
