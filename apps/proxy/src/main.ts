#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '@prism/config';
import { createLogger } from '@prism/sdk';
import { isClusterWorker, notifyServing, runPrimary } from './cluster.js';
import { loadProxyConfig } from './load.js';
import { isDegraded } from './namespaces.js';
import { startProxy } from './server.js';

const USAGE = `Usage: prism-proxy [--config FILE] [--port N] [--host ADDR] [--workers N]

  -c, --config FILE   namespace YAML (default: built-in config, namespace "default" on MemStore)
  -p, --port N        listen port (default: proxy.listen in the config, else 8980; 0 = any free port)
      --host ADDR     listen address (default: proxy.listen in the config, else 0.0.0.0)
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

  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    console.error(`--workers must be an integer between 1 and 256, got "${values.workers}"`);
    process.exit(2);
  }

  const logger = createLogger({ name: 'prism-proxy' });
  if (workers > 1 && !isClusterWorker()) {
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
    // With TLS, buf curl needs the CA (--cacert) instead of prior knowledge; with auth, a token.
    const flags = proxy.url.startsWith('https:') ? '--cacert CA.pem' : '--http2-prior-knowledge';
    console.log(`try it (from the repository root):
  pnpm exec buf curl --schema proto --protocol grpc ${flags} \\
    ${proxy.url}/prism.keyvalue.v1.KeyValueBasicInterface/Set -d '{"namespace":"default","key":"a","value":"aGVsbG8="}'
  pnpm exec buf curl --schema proto --protocol grpc ${flags} \\
    ${proxy.url}/prism.keyvalue.v1.KeyValueBasicInterface/Get -d '{"namespace":"default","key":"a"}'`);
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
