import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBinary } from '@bufbuild/protobuf';
import {
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from '@prism/proto/grpc/health/v1/health_pb';
import { createRpcClient } from '../wire/client.js';

/** The repository root (the directory holding pnpm-workspace.yaml). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (pnpm-workspace.yaml)');
    dir = up;
  }
  return dir;
}

/** A proxy (or echo server) child process started for a benchmark. */
export interface BenchProcess {
  readonly url: string;
  readonly pid: number;
  /** Spawn → first grpc.health.v1 SERVING answer, in ms (proxies only). */
  readonly coldStartMs: number;
  /** Resident set size now, in MB (from /proc; the primary only for a multi-worker proxy). */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Resident set size of a process in MB, from /proc/PID/status (0 when unavailable). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sum of the RSS of a process and its direct children (a proxy's cluster workers). */
export function treeRss(pid: number): number {
  let total = rssOf(pid);
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/))
      if (child) total += rssOf(Number(child));
  } catch {
    // no children file: a single process
  }
  return total;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const SERVING = HealthCheckResponse_ServingStatus.SERVING;

/** Polls grpc.health.v1 Check("") until SERVING; resolves with the time it took from `since`. */
async function waitServing(
  url: string,
  since: number,
  child: ChildProcess,
  logFile: string,
): Promise<number> {
  const client = createRpcClient(url, 'grpc');
  const deadline = since + 30_000;
  try {
    while (performance.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(
          `proxy exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
        );
      try {
        const res = await client.unary('/grpc.health.v1.Health/Check', new Uint8Array());
        if (
          !res.code &&
          fromBinary(HealthCheckResponseSchema, res.message ?? new Uint8Array()).status === SERVING
        )
          return performance.now() - since;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    await client.close();
  }
  throw new Error(`proxy at ${url} not SERVING within 30 s:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
}

/** The proxy as esbuild bundles it (apps/proxy/scripts/bundle.mjs): what `npm start` and the container run. */
export const PROXY_BUNDLE = 'apps/proxy/dist/bundle/main.mjs';

/** Spawns `node apps/proxy/dist/main.js --config FILE --port PORT` and waits until it is SERVING. */
export async function spawnProxy(opts: {
  config: string;
  port: number;
  logFile: string;
  workers?: number;
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Entry point relative to the repository root (default: the tsc output, apps/proxy/dist/main.js). */
  entry?: string;
}): Promise<BenchProcess> {
  const main = join(repoRoot(), opts.entry ?? 'apps/proxy/dist/main.js');
  const args = [
    ...(opts.nodeArgs ?? []),
    main,
    '--config',
    opts.config,
    '--port',
    String(opts.port),
    '--host',
    '127.0.0.1',
  ];
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  const log = openSync(opts.logFile, 'a');
  const url = `http://127.0.0.1:${opts.port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', log, log],
    env: { ...process.env, PRISM_LOG_LEVEL: process.env.PRISM_LOG_LEVEL ?? 'warn', ...opts.env },
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    // A proxy dying mid-run would otherwise only show up as ECONNREFUSED in every later scenario.
    if (!stopping)
      process.stderr.write(
        `proxy on ${url} exited unexpectedly (${signal ?? `code ${code}`}); log tail:\n${readFileSync(opts.logFile, 'utf8').slice(-4000)}\n`,
      );
  });
  const stop = () => {
    stopping = true;
    return stopChild(child);
  };
  try {
    const coldStartMs = await waitServing(url, t0, child, opts.logFile);
    return { url, pid: child.pid as number, coldStartMs, rssMb: () => treeRss(child.pid as number), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Spawns the bare HTTP/2 echo server in its own process. */
export async function spawnEcho(valueSize: number): Promise<BenchProcess> {
  const main = join(dirname(fileURLToPath(import.meta.url)), 'echo-main.js');
  const child = spawn(process.execPath, [main, String(valueSize)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
    child.stdout?.once('data', (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())?.[1])));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    coldStartMs: 0,
    rssMb: () => rssOf(child.pid as number),
    stop: () => stopChild(child),
  };
}
