// redis-benchmark (Debian package redis-tools, installed with redis-server): Redis's own C load generator,
// the "direct Redis" throughput row next to Prism → Redis driven by h2load.
import { spawn } from 'node:child_process';

export interface RedisBenchmarkOptions {
  readonly host: string;
  readonly port: number;
  /** Command(s) for `-t`, e.g. `get`. */
  readonly tests: string;
  /** Value size (`-d`). */
  readonly dataSize: number;
  /** Parallel connections (`-c`). */
  readonly clients: number;
  /** Pipelining (`-P`). */
  readonly pipeline: number;
  /** Total requests (`-n`): redis-benchmark has no duration option. */
  readonly requests: number;
  readonly bin?: string;
}

/** One row of `redis-benchmark --csv` (Redis 7: latencies in ms). */
export interface RedisBenchmarkRow {
  readonly test: string;
  readonly rps: number;
  readonly avgMs: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** How a row names this generator. */
export function redisBenchmarkLabel(o: Pick<RedisBenchmarkOptions, 'clients' | 'pipeline'>): string {
  return `redis-benchmark -c${o.clients} -P${o.pipeline}`;
}

/** Parses `redis-benchmark --csv` output (header line, then one quoted row per test). */
export function parseRedisBenchmarkCsv(text: string): RedisBenchmarkRow[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('"'));
  const cells = (l: string) => l.split(',').map((c) => c.replace(/^"|"$/g, ''));
  const header = lines[0] ? cells(lines[0]) : [];
  if (header[0] !== 'test' || header[1] !== 'rps')
    throw new Error(`cannot parse redis-benchmark output:\n${text.trim().slice(-500)}`);
  return lines.slice(1).map((l) => {
    const c = cells(l);
    const at = (name: string) => Number(c[header.indexOf(name)]);
    return {
      test: c[0] as string,
      rps: at('rps'),
      avgMs: at('avg_latency_ms'),
      minMs: at('min_latency_ms'),
      p50Ms: at('p50_latency_ms'),
      p95Ms: at('p95_latency_ms'),
      p99Ms: at('p99_latency_ms'),
      maxMs: at('max_latency_ms'),
    };
  });
}

/** Runs redis-benchmark once (`--csv --precision 3`) and returns its rows. */
export function runRedisBenchmark(o: RedisBenchmarkOptions): Promise<RedisBenchmarkRow[]> {
  const args = [
    '-h',
    o.host,
    '-p',
    String(o.port),
    '-t',
    o.tests,
    '-d',
    String(o.dataSize),
    '-P',
    String(o.pipeline),
    '-c',
    String(o.clients),
    '-n',
    String(o.requests),
    '--csv',
    '--precision',
    '3',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(o.bin ?? 'redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new Error(
              'redis-benchmark is not on PATH (Debian package redis-tools, installed with redis-server)',
            )
          : e,
      ),
    );
    child.once('close', (code) => {
      if (code !== 0)
        return reject(new Error(`redis-benchmark exited with ${code}: ${(err || out).trim().slice(-300)}`));
      try {
        resolve(parseRedisBenchmarkCsv(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
