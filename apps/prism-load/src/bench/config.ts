/** Backend URLs the suite's proxy config points at (undefined = that backend did not start). */
export interface BackendUrls {
  readonly redis?: string;
  readonly postgres?: string;
  readonly nats?: string;
}

/** The namespace YAML of the benchmark proxy: one namespace per scenario backend. */
export function proxyYaml(
  urls: BackendUrls,
  opts: { sidecar?: boolean; memstoreOnly?: boolean } = {},
): string {
  const lines = ['proxy:', '  listen: 127.0.0.1:0', 'namespaces:'];
  const ns = (name: string, pattern: string, backend: string) =>
    lines.push(`  - name: ${name}`, `    pattern: ${pattern}`, `    backend: ${backend}`);
  ns('bench-mem', 'keyvalue', '{ type: memstore }');
  if (opts.sidecar) ns('bench-sidecar', 'keyvalue', '{ type: memstore, plugin: { mode: sidecar } }');
  if (opts.memstoreOnly) return `${lines.join('\n')}\n`;
  if (urls.redis) ns('bench-redis', 'keyvalue', `{ type: redis, config: { url: "${urls.redis}" } }`);
  if (urls.postgres) ns('bench-pg', 'keyvalue', `{ type: postgres, config: { url: "${urls.postgres}" } }`);
  if (urls.nats) {
    ns('bench-nats', 'pubsub', `{ type: nats, config: { servers: ["${urls.nats}"] } }`);
    ns('bench-queue', 'queue', `{ type: nats, config: { servers: ["${urls.nats}"], storage: memory } }`);
  }
  return `${lines.join('\n')}\n`;
}
