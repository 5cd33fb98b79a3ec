import cluster, { type Worker } from 'node:cluster';
import type { PrismConfig } from '@prism/config';
import type { PluginCatalog } from './catalog.js';

/** Message a worker sends its primary once it serves. */
interface ServingMessage {
  readonly type: 'prism-serving';
  readonly url: string;
}

const isServing = (m: unknown): m is ServingMessage =>
  (m as ServingMessage | undefined)?.type === 'prism-serving';

/** True in a worker process forked by {@link runPrimary}. */
export const isClusterWorker = (): boolean => cluster.isWorker;

/** Tells the primary this worker is serving (no-op outside a cluster). */
export function notifyServing(url: string): void {
  if (cluster.isWorker) process.send?.({ type: 'prism-serving', url } satisfies ServingMessage);
}

/**
 * Scale-out on one machine: forks `workers` copies of this process (same arguments) that each run a full
 * proxy listening on the same port; node:cluster hands incoming connections to them round-robin. The
 * primary only supervises: it resolves with the URL once every worker serves, restarts a worker that
 * dies, forwards SIGHUP (reload) and drains all workers on SIGTERM/SIGINT.
 */
export function runPrimary(
  workers: number,
  log: { info(msg: string): void; error(msg: string): void },
): Promise<string> {
  let stopping = false;
  const ready = new Set<Worker>();
  return new Promise<string>((resolve, reject) => {
    let url: string | undefined;
    const fork = (): Worker => {
      const w = cluster.fork();
      w.on('message', (m: unknown) => {
        if (!isServing(m)) return;
        ready.add(w);
        url ??= m.url;
        if (ready.size === workers) resolve(m.url);
      });
      return w;
    };
    cluster.on('exit', (w, code, signal) => {
      ready.delete(w);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      if (url === undefined) {
        // A worker failing before the proxy ever served is a startup error (bad config, port taken).
        stopping = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
        reject(new Error(`worker ${w.process.pid} exited during startup (${signal ?? `code ${code}`})`));
        return;
      }
      log.error(`worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting a new one`);
      setTimeout(fork, 500).unref();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: draining ${workers} workers`);
      const alive = Object.values(cluster.workers ?? {});
      if (alive.length === 0) process.exit(0);
      for (const w of alive) w?.process.kill('SIGTERM');
      // Workers drain within their own shutdown deadline; do not outlive a stuck one forever.
      setTimeout(() => process.exit(1), 60_000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
    });
    for (let i = 0; i < workers; i++) fork();
  });
}

/**
 * Why `config` cannot run on `workers` processes: a namespace whose backend keeps its data in the plugin's
 * process (MemStore, in_process or sidecar) would get one copy per worker, so a Set answered by one worker
 * is invisible to a Get answered by another. `per_worker: true` accepts that (a cache). One line each.
 */
export function workerProblems(config: PrismConfig, catalog: PluginCatalog, workers: number): string[] {
  if (workers <= 1) return [];
  return config.namespaces.flatMap((ns) => {
    const b = ns.backend;
    if (!b || ns.perWorker || b.plugin.mode === 'remote' || !catalog.get(b.type)?.dataInProcess) return [];
    return [
      `namespace "${ns.name}" (${ns.source.file}:${ns.source.line}): backend ${b.type} keeps its data in the proxy's process, so with --workers ${workers} each worker would hold its own copy and a write answered by one worker would be invisible to reads answered by another. Run one worker, run ${b.type} as a remote plugin that all workers share, or set "per_worker: true" on the namespace if separate copies are acceptable (a cache).`,
    ];
  });
}
