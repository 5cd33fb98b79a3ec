/** Backend URLs the suite's proxy config points at (undefined = that backend did not start). */
export interface BackendUrls {
  readonly redis?: string;
  readonly postgres?: string;
  readonly nats?: string;
  /** Kafka bootstrap (`host:port`): only the Kafka row's own proxy gets it (the broker starts for that row). */
  readonly kafka?: string;
  /** ClickHouse HTTP URL and Gremlin Server URL: only the model rows' own proxy gets them. */
  readonly clickhouse?: string;
  readonly gremlin?: string;
}

/** Options of the generated proxy config. */
export interface ProxyYamlOptions {
  readonly sidecar?: boolean;
  readonly memstoreOnly?: boolean;
  /** `proxy.metrics.enabled` (the proxy's default is on); left out of the YAML when undefined. */
  readonly metrics?: boolean;
  /** `proxy.tracing` (off when absent): OTLP/HTTP traces endpoint and the share of calls sampled. */
  readonly tracing?: { readonly otlpEndpoint: string; readonly sampleRatio: number };
  /** `proxy.auth` with one JWT provider (`jwks_url` of a test identity provider); bench-mem open to `*`. */
  readonly jwt?: { readonly issuer: string; readonly jwksUrl: string; readonly audience: string };
}

/** The namespace YAML of the benchmark proxy: one namespace per scenario backend. */
export function proxyYaml(urls: BackendUrls, opts: ProxyYamlOptions = {}): string {
  const lines = ['proxy:', '  listen: 127.0.0.1:0'];
  if (opts.metrics !== undefined) lines.push(`  metrics: { enabled: ${opts.metrics} }`);
  if (opts.tracing)
    lines.push(
      `  tracing: { otlp_endpoint: ${JSON.stringify(opts.tracing.otlpEndpoint)}, sample_ratio: ${opts.tracing.sampleRatio} }`,
    );
  if (opts.jwt)
    lines.push(
      '  auth:',
      '    providers:',
      `      - { name: bench, type: jwt, issuer: "${opts.jwt.issuer}", jwks_url: "${opts.jwt.jwksUrl}", audience: ${opts.jwt.audience} }`,
      '  access:',
      '    - { principals: ["*"], permissions: [read, write] }',
    );
  lines.push('namespaces:');
  const ns = (name: string, pattern: string, backend: string) =>
    lines.push(`  - name: ${name}`, `    pattern: ${pattern}`, `    backend: ${backend}`);
  ns('bench-mem', 'keyvalue', '{ type: memstore }');
  lines.push('    per_worker: true'); // the workers row runs it on 2 processes, each with its own map
  if (opts.sidecar) ns('bench-sidecar', 'keyvalue', '{ type: memstore, plugin: { mode: sidecar } }');
  if (opts.memstoreOnly) return `${lines.join('\n')}\n`;
  if (urls.redis) {
    ns('bench-redis', 'keyvalue', `{ type: redis, config: { url: "${urls.redis}" } }`);
    ns('bench-zset', 'sortedset', `{ type: redis, config: { url: "${urls.redis}" } }`);
  }
  if (urls.clickhouse)
    ns('bench-ts-ch', 'timeseries', `{ type: clickhouse, config: { url: "${urls.clickhouse}" } }`);
  if (urls.gremlin)
    ns('bench-graph-gremlin', 'graph', `{ type: gremlin, config: { url: "${urls.gremlin}" } }`);
  if (urls.clickhouse && urls.postgres) {
    ns('bench-ts-pg', 'timeseries', `{ type: postgres, config: { url: "${urls.postgres}" } }`);
    ns('bench-graph-pg', 'graph', `{ type: postgres, config: { url: "${urls.postgres}" } }`);
  }
  if (urls.kafka) ns('bench-kafka', 'stream', `{ type: kafka, config: { brokers: ["${urls.kafka}"] } }`);
  if (urls.postgres) ns('bench-pg', 'keyvalue', `{ type: postgres, config: { url: "${urls.postgres}" } }`);
  if (urls.nats) {
    ns('bench-nats', 'pubsub', `{ type: nats, config: { servers: ["${urls.nats}"] } }`);
    ns('bench-queue', 'queue', `{ type: nats, config: { servers: ["${urls.nats}"], storage: memory } }`);
  }
  return `${lines.join('\n')}\n`;
}
