#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '@prism/config';
import { createLogger } from '@prism/sdk';
import { isClusterWorker, notifyServing, runPrimary, workerProblems } from './cluster.js';
import { loadProxyConfig } from './load.js';
import { isDegraded } from './namespaces.js';
import { startProxy } from './server.js';

const USAGE = `Usage: prism-proxy [--config FILE] [--port N] [--host ADDR] [--admin-port N] [--workers N]

  -c, --config FILE   namespace YAML (default: built-in config, namespace "default" on MemStore)
  -p, --port N        listen port (default: proxy.listen in the config, else 8980; 0 = any free port)
      --host ADDR     listen address (default: proxy.listen in the config, else 0.0.0.0)
      --admin-port N  admin API port (default: proxy.admin.listen, 127.0.0.1:8981 in the built-in
                      config; 0 = any free port, also the default with --port 0; not with --workers)
  -w, --workers N     worker processes sharing the port (node:cluster; default 1 = no cluster)
  -h, --help          show this help

Signals: SIGTERM/SIGINT drain in-flight calls and exit 0; SIGHUP reloads the config file (an invalid
file is rejected with its errors and the running config keeps serving).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'admin-port': { type: 'string' },
      workers: { type: 'string', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`--port must be an integer between 0 and 65535, got "${values.port}"`);
    process.exit(2);
  }
  // A throwaway proxy on a free port (tests, demos) must not take the fixed admin port either.
  const adminPort =
    values['admin-port'] === undefined ? (port === 0 ? 0 : undefined) : Number(values['admin-port']);
  if (adminPort !== undefined && (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535)) {
    console.error(`--admin-port must be an integer between 0 and 65535, got "${values['admin-port']}"`);
    process.exit(2);
  }

  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    console.error(`--workers must be an integer between 1 and 256, got "${values.workers}"`);
    process.exit(2);
  }

  const logger = createLogger({ name: 'prism-proxy' });
  if (workers > 1 && !isClusterWorker()) {
    // Refused before forking: a config that cannot be split over workers fails once, with the reason.
    const problems = await loadProxyConfig(values.config).then(
      ({ config, catalog }) => workerProblems(config, catalog, workers),
      () => [], // an invalid config is reported by the first worker, with its file:line problems
    );
    if (problems.length) {
      console.error(
        `prism-proxy cannot start ${workers} workers:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      );
      process.exit(1);
    }
    // The primary supervises; each worker runs this same main() as a full proxy on the shared port.
    const url = await runPrimary(workers, {
      info: (msg) => logger.info(msg),
      error: (msg) => logger.error(msg),
    }).catch((err: Error) => {
      console.error(`prism-proxy failed to start: ${err.message}`);
      process.exit(1);
    });
    console.log(`Prism proxy serving Connect, gRPC and gRPC-web on ${url} (${workers} workers)`);
    return;
  }
  let loaded: Awaited<ReturnType<typeof loadProxyConfig>>;
  try {
    loaded = await loadProxyConfig(values.config);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `cannot load config: ${(err as Error).message}`);
    process.exit(1);
  }
  const proxy = await startProxy({
    ...loaded,
    logger,
    // Each worker is a whole proxy: an admin call would reach one of them at random, so none serves it.
    adminPort: isClusterWorker() ? false : adminPort,
    onExit: () => stop('admin Drain'),
    port,
    host: values.host,
    configFile: values.config,
  }).catch((err: Error) => {
    console.error(`prism-proxy failed to start: ${err.message}`);
    process.exit(1);
  });

  // A namespace whose backend was unreachable is served as UNAVAILABLE and keeps starting in the background.
  const names = proxy.table
    .runtimes()
    .map(
      (r) =>
        `${r.name} (${r.backendType}, ${r.mode}${isDegraded(r) ? ', unavailable: backend unreachable, retrying' : ''})`,
    );
  notifyServing(proxy.url); // in a cluster, the primary prints the banner once
  if (!isClusterWorker()) {
    console.log(`Prism proxy serving Connect, gRPC and gRPC-web on ${proxy.url}`);
    console.log(`namespaces: ${names.join(', ') || 'none'}`);
    if (proxy.adminUrl) console.log(`admin API (prism.admin.v1, prismctl) on ${proxy.adminUrl}`);
    if (proxy.adminUrl) console.log(`web console on ${proxy.adminUrl}/console/`);
    // Connect's JSON unary protocol over HTTP/1.1 needs nothing but curl (with TLS: --cacert CA.pem).
    const kv = loaded.config.namespaces.find((ns) => ns.pattern === 'keyvalue')?.name;
    if (kv) {
      const call = (method: string, body: object) =>
        `  curl -H 'content-type: application/json' -d '${JSON.stringify(body)}' ${proxy.url}/prism.keyvalue.v1.KeyValueBasicInterface/${method}`;
      console.log(`try it:
${call('Set', { namespace: kv, key: 'a', value: 'aGVsbG8=' })}
${call('Get', { namespace: kv, key: 'a' })}
  (gRPC: npx buf curl --schema proto --protocol grpc --http2-prior-knowledge ..., from the repository root)`);
    }
  }
  logger.info({ address: proxy.url, namespaces: proxy.table.names() }, 'serving');

  const stop = (signal: string) => {
    logger.info({ signal }, 'draining');
    // The drain is bounded by shutdown_timeout_ms; this ends the process even if closing a plugin hangs.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      exit(1);
    }, loaded.config.proxy.shutdownTimeoutMs + 5000).unref();
    proxy.shutdown().then(
      () => exit(0),
      (err: Error) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  /**
   * Flushes the log while the event loop runs, then exits. At exit pino flushes synchronously, and
   * sonic-boom retries a write to a closed pipe forever: a supervisor that closed our stdout after
   * SIGTERM (spawnSync with a timeout does) would otherwise keep the process alive. An async flush
   * meets the broken pipe first, and pino then stops writing.
   */
  const exit = (code: number) => {
    const timer = setTimeout(() => process.exit(code), 1000);
    logger.flush(() => {
      clearTimeout(timer);
      process.exit(code);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config');
    proxy.reload().then(
      (r) => {
        if (r.ok)
          console.log(
            `reloaded: started ${r.started.join(', ') || 'none'}; removed ${r.removed.join(', ') || 'none'}`,
          );
        else console.error(`reload rejected; still serving the previous config:\n${r.error}`);
      },
      (err: Error) => logger.error({ err }, 'reload failed'),
    );
  });
}

await main();
