import { buildWorkload, type OpKind } from './ops.js';
import { Recorder } from './recorder.js';
import { buildReport, formatProgress, type LoadReport } from './report.js';
import { type LoopOptions, type Op, runLoop } from './scheduler.js';
import { createRpcClient, type HttpVersion } from './wire/client.js';
import type { Protocol } from './wire/protocol.js';

/** Everything `prism-load` takes on its command line. */
export interface LoadOptions {
  /** Base URL of the proxy (or any server speaking the protocol), e.g. `http://127.0.0.1:8980`. */
  readonly target: string;
  readonly protocol: Protocol;
  readonly httpVersion: HttpVersion;
  /** HTTP connections to spread calls over (HTTP/2 multiplexes; HTTP/1.1 needs one per call in flight). */
  readonly connections: number;
  readonly namespace: string;
  readonly op: OpKind;
  readonly ratio: number;
  readonly concurrency: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly rps: number | undefined;
  readonly valueSize: number;
  readonly keys: number;
  /** Topic (pub/sub) or queue name. */
  readonly topic: string;
  /** Print a progress line every second (stderr). */
  readonly progress?: (line: string) => void;
}

/** Defaults for every option but the target. */
export const DEFAULTS: Omit<LoadOptions, 'target'> = {
  protocol: 'grpc',
  httpVersion: '2',
  connections: 1,
  namespace: 'default',
  op: 'get',
  ratio: 0.9,
  concurrency: 16,
  durationS: 10,
  warmupS: 1,
  rps: undefined,
  valueSize: 1024,
  keys: 1000,
  topic: 'prism-load',
};

/** Drives any operation (a proxy call, a direct backend client, an in-process adapter) and reports. */
export async function driveOp(label: string, op: Op, loop: LoopOptions): Promise<LoadReport> {
  const rec = new Recorder();
  const outcome = await runLoop(op, rec, loop);
  return buildReport(label, rec, { ...loop, ...outcome });
}

/** Runs one load test against a target as configured; resolves with the final report. */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const client = createRpcClient(opts.target, opts.protocol, {
    httpVersion: opts.httpVersion,
    connections: opts.httpVersion === '1.1' ? Math.max(opts.connections, opts.concurrency) : opts.connections,
  });
  const label = `${opts.target} ${opts.protocol}${opts.httpVersion === '1.1' ? ' (HTTP/1.1)' : ''} ${opts.op}${opts.op === 'mixed' ? ` ${Math.round(opts.ratio * 100)}% reads` : ''} ns=${opts.namespace}`;
  const onProgress = opts.progress
    ? (s: Parameters<typeof formatProgress>[0]) => opts.progress?.(formatProgress(s))
    : undefined;
  try {
    const workload = buildWorkload(client, opts);
    await workload.prepare?.(opts.concurrency);
    if (workload.op)
      return await driveOp(label, workload.op, {
        concurrency: opts.concurrency,
        durationS: opts.durationS,
        warmupS: opts.warmupS,
        rps: opts.rps,
        onProgress,
      });
    return await consume(label, workload.consume as NonNullable<typeof workload.consume>, opts, onProgress);
  } finally {
    await client.close();
  }
}

/** Runs consumers (subscribe/receive) for warmup + duration and reports delivery latencies. */
export async function consume(
  label: string,
  start: (rec: Recorder, n: number, signal: AbortSignal) => Promise<{ done: Promise<void> }>,
  opts: Pick<LoadOptions, 'concurrency' | 'durationS' | 'warmupS'>,
  onProgress?: LoopOptions['onProgress'],
): Promise<LoadReport> {
  const rec = new Recorder();
  const stop = new AbortController();
  const { done } = await start(rec, opts.concurrency, stop.signal);
  await wait(opts.warmupS * 1000);
  rec.reset();
  const timer = onProgress ? setInterval(() => onProgress(rec.sample()), 1000) : undefined;
  await wait(opts.durationS * 1000);
  clearInterval(timer);
  const durationS = rec.elapsedS();
  const report = buildReport(label, rec, { concurrency: opts.concurrency, durationS });
  stop.abort();
  await done;
  return report;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
